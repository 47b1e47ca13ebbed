namespace Cake.Ko;

/// <summary>One published image.</summary>
/// <param name="ImportPath">The Go import path it was built from.</param>
/// <param name="Name">The image name without tag or digest.</param>
/// <param name="Reference">The reference as ko prints it: <c>name@sha256:…</c>, or <c>name:tag</c> with tag-only.</param>
/// <param name="Digest">The digest of the image or index, <c>sha256:…</c>.</param>
/// <param name="MediaType">The media type of the manifest or index.</param>
/// <param name="Platforms">The platforms built, e.g. <c>linux/amd64</c>.</param>
/// <param name="Tags">The tags applied.</param>
public sealed record KoImage(string ImportPath, string Name, string Reference, string Digest, string MediaType, IReadOnlyList<string> Platforms, IReadOnlyList<string> Tags)
{
    /// <summary>The reference.</summary>
    public override string ToString() => Reference;

    /// <summary>The engine's full result (platform digests, SBOMs, base), kept for <see cref="KoResolveSettings.Images"/>.</summary>
    internal global::Ko.Engine.KoImageResult? Engine { get; init; }
}

/// <summary>What <c>KoBuild</c> published.</summary>
/// <param name="Images">One image per import path, in the order given.</param>
public sealed record KoBuildResult(IReadOnlyList<KoImage> Images)
{
    /// <summary>The only image of a single import path build.</summary>
    /// <exception cref="InvalidOperationException">More than one image was built.</exception>
    public KoImage Image => Images.Count == 1 ? Images[0] : throw new InvalidOperationException($"{Images.Count} images were built; use Images.");

    /// <summary>The reference of the only image.</summary>
    public string Reference => Image.Reference;

    /// <summary>The digest of the only image.</summary>
    public string Digest => Image.Digest;

    /// <summary>The images' references (a record's generated text would read <see cref="Image"/>, which throws for several images).</summary>
    /// <returns>E.g. <c>KoBuildResult [reg/app@sha256:…]</c>.</returns>
    public override string ToString() => $"KoBuildResult [{string.Join(", ", Images.Select(i => i.Reference))}]";

    /// <summary>The platforms of the only image.</summary>
    public IReadOnlyList<string> Platforms => Image.Platforms;
}
