namespace Nuke.Ko;

/// <summary>One platform's image inside an index (or the image itself).</summary>
/// <param name="Platform">The platform, e.g. <c>linux/arm64/v8</c>.</param>
/// <param name="Digest">The platform image's digest, <c>sha256:…</c>.</param>
public sealed record KoPlatformImage(string Platform, string Digest);
