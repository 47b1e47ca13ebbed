using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// Chooses the platforms to build from what a base offers: every one for <c>all</c>, the build machine's for a
/// multi-platform base when none was asked for, else each wanted platform matched to an offered one.
/// </summary>
internal static class PlatformSelector
{
    /// <summary>The platforms to build on a base offering <paramref name="offered"/>.</summary>
    /// <param name="wanted">The platforms asked for; empty means the default.</param>
    /// <param name="all">Whether every offered platform was asked for.</param>
    /// <param name="offered">The base's platforms, in its index order.</param>
    /// <param name="multiPlatform">Whether the base is an index (a single image offers only its own platform).</param>
    /// <param name="baseName">The base's name, for messages.</param>
    public static IReadOnlyList<Platform> Choose(IReadOnlyList<Platform> wanted, bool all, IReadOnlyList<Platform> offered, bool multiPlatform, string baseName)
    {
        if (all)
        {
            return offered;
        }

        if (wanted.Count == 0)
        {
            return multiPlatform ? [Match(offered, Platform.Host(), baseName)] : offered;
        }

        return wanted.Select(p => Match(offered, p, baseName)).Distinct().ToList();
    }

    /// <summary>Finds the offered platform that satisfies a wanted one, or explains why none does.</summary>
    public static Platform Match(IReadOnlyList<Platform> offered, Platform wanted, string baseName)
    {
        var match = offered.FirstOrDefault(p => p == wanted) ?? offered.FirstOrDefault(wanted.Accepts);
        return match ?? throw new KoException(
            KoErrorCodes.InvalidPlatform,
            $"the base image {baseName} has no {wanted} image; it offers {string.Join(", ", offered)}. Choose one of those with --platform, or another base image.");
    }
}
