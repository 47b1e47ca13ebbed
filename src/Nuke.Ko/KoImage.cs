namespace Nuke.Ko;

/// <summary>One built image (the engine's <c>KoImageResult</c> in Nuke.Ko's terms: strings, no engine types).</summary>
/// <param name="ImportPath">The Go import path it was built from.</param>
/// <param name="Name">The image name without tag or digest.</param>
/// <param name="Reference">The reference as ko prints it: <c>name@sha256:…</c>, or <c>name:tag</c> with tag-only.</param>
/// <param name="Digest">The digest of the image or index, <c>sha256:…</c>.</param>
/// <param name="MediaType">The media type of the manifest or index.</param>
/// <param name="Platforms">The platforms built, e.g. <c>linux/amd64</c>.</param>
/// <param name="Tags">The tags applied.</param>
public sealed record KoImage(string ImportPath, string Name, string Reference, string Digest, string MediaType, IReadOnlyList<string> Platforms, IReadOnlyList<string> Tags)
{
    /// <summary>Each platform's image digest (for an index, its children; else the image itself). Empty when unknown.</summary>
    public IReadOnlyList<KoPlatformImage> PlatformImages { get; init; } = [];

    /// <summary>The references of the SBOMs pushed with the image: none without a push or with no SBOM.</summary>
    public IReadOnlyList<string> SbomReferences { get; init; } = [];

    /// <summary>The base image's name, as the image's annotations name it; null when they name none.</summary>
    public string? BaseName { get; init; }

    /// <summary>The base image's digest, when the annotations give it.</summary>
    public string? BaseDigest { get; init; }

    /// <summary>The engine's own result, kept so <c>SetImages</c> hands the engine exactly what it built.</summary>
    internal global::Ko.Engine.KoImageResult? Engine { get; init; }

    /// <summary>The reference.</summary>
    /// <returns>The reference.</returns>
    public override string ToString() => Reference;
}
