namespace Nuke.Ko;

/// <summary>The SBOM format a build makes for every image (<see cref="KoImageSettings.Sbom"/>); the engine's <c>SbomFormat</c> without its namespace.</summary>
public enum KoSbomFormat
{
    /// <summary>SPDX 2.3 JSON (<c>application/spdx+json</c>), the default.</summary>
    Spdx,

    /// <summary>CycloneDX 1.6 JSON (<c>application/vnd.cyclonedx+json</c>).</summary>
    CycloneDx,

    /// <summary>No SBOM.</summary>
    None,
}
