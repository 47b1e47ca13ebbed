using Ko.Engine.Oci;

namespace Ko.Engine.Records;

/// <summary>One platform's image inside a built index (or the only image of a single-platform build).</summary>
/// <param name="Platform">The platform, e.g. <c>linux/arm64</c>.</param>
/// <param name="Digest">The digest of that platform's image manifest.</param>
public sealed record KoPlatformImage(Platform Platform, Digest Digest);
