using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// Chooses the platforms to build from what a base offers, as ko's platformMatcher and buildAll
/// (pkg/build/gobuild.go): every offered platform for <c>all</c>; the build machine's for a multi-platform base
/// when none was asked for; else every offered platform, in the base's order, that some wanted platform accepts
/// (so <c>linux</c> takes every linux image and <c>linux/arm</c> every arm variant). Nothing matching is an error.
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
            return offered.Count > 0 ? offered : throw NoMatch(baseName, "all", offered);
        }

        if (wanted.Count == 0)
        {
            return multiPlatform ? [Match(offered, Platform.Host(), baseName)] : offered;
        }

        var chosen = offered.Where(o => wanted.Any(w => w == o || w.Accepts(o))).Distinct().ToList();
        return chosen.Count > 0 ? chosen : throw NoMatch(baseName, string.Join(",", wanted), offered);
    }

    /// <summary>Finds the offered platform that satisfies a wanted one, or explains why none does.</summary>
    public static Platform Match(IReadOnlyList<Platform> offered, Platform wanted, string baseName)
    {
        var match = offered.FirstOrDefault(p => p == wanted) ?? offered.FirstOrDefault(wanted.Accepts);
        return match ?? throw NoMatch(baseName, wanted.ToString(), offered);
    }

    private static KoException NoMatch(string baseName, string wanted, IReadOnlyList<Platform> offered) => new(
        KoErrorCodes.InvalidPlatform,
        $"no matching platforms in the base image {baseName}: {wanted} was asked for and it offers {(offered.Count == 0 ? "no platform" : string.Join(", ", offered))}. Choose one of those with --platform, or another base image.");
}
