namespace Nuke.Ko;

/// <summary>How a pushed SBOM is attached to its image (<see cref="KoImageSettings.SbomAttach"/>, <see cref="KoPushSettings.SbomAttach"/>).</summary>
public enum KoSbomAttachment
{
    /// <summary>An OCI 1.1 artifact whose <c>subject</c> is the image, found through the referrers API. The default.</summary>
    Referrers,

    /// <summary>ko's layout: the artifact is tagged <c>sha256-&lt;hex&gt;.sbom</c>.</summary>
    Tag,
}
