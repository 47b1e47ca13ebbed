namespace Ko.Engine.Sbom;

/// <summary>The SBOM format a build makes for every image (<c>--sbom</c>).</summary>
public enum SbomFormat
{
    /// <summary>SPDX 2.3 JSON (<c>application/spdx+json</c>), the default.</summary>
    Spdx,

    /// <summary>CycloneDX 1.6 JSON (<c>application/vnd.cyclonedx+json</c>).</summary>
    CycloneDx,

    /// <summary>No SBOM.</summary>
    None,
}

/// <summary>How a pushed SBOM is attached to its image (<c>--sbom-attach</c>).</summary>
public enum SbomAttachment
{
    /// <summary>
    /// An OCI 1.1 artifact whose <c>subject</c> is the image, found through the referrers API, and also listed in the
    /// referrers tag schema index (<c>sha256-&lt;hex&gt;</c>) for registries without that API. The default.
    /// </summary>
    Referrers,

    /// <summary>ko's layout: the artifact is tagged <c>sha256-&lt;hex&gt;.sbom</c>.</summary>
    Tag,
}

/// <summary>Parsing of the SBOM option values.</summary>
public static class SbomOptionValues
{
    /// <summary>Parses <c>spdx</c>, <c>cyclonedx</c> or <c>none</c> (case-insensitive).</summary>
    /// <param name="value">The text.</param>
    /// <exception cref="KoException">The value is none of them (KO1004).</exception>
    public static SbomFormat ParseFormat(string value) => value.Trim().ToLowerInvariant() switch
    {
        "spdx" => SbomFormat.Spdx,
        "cyclonedx" => SbomFormat.CycloneDx,
        "none" => SbomFormat.None,
        _ => throw new KoException(KoErrorCodes.InvalidOption, $"--sbom '{value}' is not a known SBOM format; use spdx (default), cyclonedx or none."),
    };

    /// <summary>Parses <c>referrers</c> or <c>tag</c> (case-insensitive).</summary>
    /// <param name="value">The text.</param>
    /// <exception cref="KoException">The value is neither (KO1004).</exception>
    public static SbomAttachment ParseAttachment(string value) => value.Trim().ToLowerInvariant() switch
    {
        "referrers" => SbomAttachment.Referrers,
        "tag" => SbomAttachment.Tag,
        _ => throw new KoException(KoErrorCodes.InvalidOption, $"--sbom-attach '{value}' is not known; use referrers (default: an OCI 1.1 artifact with a subject) or tag (ko's sha256-<hex>.sbom tag)."),
    };
}
