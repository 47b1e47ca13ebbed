namespace Nuke.Ko;

/// <summary>What <see cref="KoTasks.KoBuild(KoBuildSettings)"/> built; hand it to <c>SetImages</c> to deploy exactly these images.</summary>
/// <param name="Images">One image per import path, in the order given.</param>
/// <param name="Statistics">What the build did.</param>
public sealed record KoBuildResult(IReadOnlyList<KoImage> Images, KoBuildStatistics Statistics)
{
    /// <summary>The only image of a single import path build.</summary>
    /// <exception cref="InvalidOperationException">More or fewer than one image was built.</exception>
    public KoImage Image => Images.Count == 1 ? Images[0] : throw new InvalidOperationException($"{Images.Count} images were built; use Images.");

    /// <summary>The reference of the only image.</summary>
    public string Reference => Image.Reference;

    /// <summary>The digest of the only image.</summary>
    public string Digest => Image.Digest;

    /// <summary>The images' references (a record's generated text would read <see cref="Image"/>, which throws for several images).</summary>
    /// <returns>E.g. <c>KoBuildResult [reg/app@sha256:…]</c>.</returns>
    public override string ToString() => $"KoBuildResult [{string.Join(", ", Images.Select(i => i.Reference))}]";
}
