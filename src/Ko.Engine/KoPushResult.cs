using Ko.Engine.Oci;

namespace Ko.Engine;

/// <summary>The outcome of <see cref="KoEngine.PushAsync"/>.</summary>
/// <param name="Source">The source as given.</param>
/// <param name="Name">The image name pushed to, without tag or digest.</param>
/// <param name="Reference">The reference as ko prints it (<c>name@sha256:…</c>, or <c>name:tag@sha256:…</c> for one tag other than latest).</param>
/// <param name="Digest">The digest of the image or index: the one it had in the source.</param>
/// <param name="MediaType">The media type of the image manifest or index.</param>
/// <param name="Platforms">The platforms of its images.</param>
/// <param name="Tags">The tags set.</param>
/// <param name="Sboms">References of the SBOM artifacts attached, in order.</param>
/// <param name="Statistics">Blobs uploaded, already there and mounted (the go and layer counts are 0).</param>
public sealed record KoPushResult(string Source, string Name, string Reference, Digest Digest, string MediaType, IReadOnlyList<Platform> Platforms, IReadOnlyList<string> Tags, IReadOnlyList<string> Sboms, KoBuildStatistics Statistics)
{
    /// <summary>The signatures and attestations made with <see cref="Configuration.KoPushOptions.SignKey"/> (index first), or found already there; empty without a key.</summary>
    public IReadOnlyList<Signing.KoSignature> Signatures { get; init; } = [];
}
