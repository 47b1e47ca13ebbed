namespace Nuke.Ko;

/// <summary>What <see cref="KoTasks.KoPush(KoPushSettings)"/> published.</summary>
/// <param name="Source">The source as given.</param>
/// <param name="Name">The image name pushed to, without tag or digest.</param>
/// <param name="Reference">The printed reference (<c>name@sha256:…</c>).</param>
/// <param name="Digest">The digest of the image or index: the one it had in the source.</param>
/// <param name="MediaType">The media type of the image manifest or index.</param>
/// <param name="Platforms">The platforms of its images.</param>
/// <param name="Tags">The tags set.</param>
/// <param name="Sboms">References of the SBOM artifacts attached, in order.</param>
/// <param name="Statistics">Blobs uploaded, already there and mounted.</param>
public sealed record KoPushResult(string Source, string Name, string Reference, string Digest, string MediaType, IReadOnlyList<string> Platforms, IReadOnlyList<string> Tags, IReadOnlyList<string> Sboms, KoBuildStatistics Statistics)
{
    /// <summary>The reference.</summary>
    /// <returns>The reference.</returns>
    public override string ToString() => Reference;
}
