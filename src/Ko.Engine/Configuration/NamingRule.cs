using Ko.Engine.Publishing;

namespace Ko.Engine.Configuration;

/// <summary>
/// The one rule that turns the three naming switches into a <see cref="NamingStrategy"/>, for the CLI, Cake and NUKE
/// alike. As ko's MakeNamer (pkg/commands/options/publish.go): <c>--preserve-import-paths</c> (-P) wins over
/// <c>--base-import-paths</c> (-B), which wins over <c>--bare</c>; none of them means ko's md5 name.
/// </summary>
public static class NamingRule
{
    /// <summary>The naming strategy for the given switches.</summary>
    /// <param name="preserveImportPaths">-P / --preserve-import-paths.</param>
    /// <param name="baseImportPaths">-B / --base-import-paths.</param>
    /// <param name="bare">--bare.</param>
    public static NamingStrategy Choose(bool preserveImportPaths, bool baseImportPaths, bool bare) =>
        preserveImportPaths ? NamingStrategy.PreserveImportPath
        : baseImportPaths ? NamingStrategy.BaseImportPath
        : bare ? NamingStrategy.Bare
        : NamingStrategy.Md5;

    /// <summary>
    /// A sentence naming the switches that lose to the chosen one (for a warning), or null when at most one is set.
    /// </summary>
    /// <param name="preserveImportPaths">-P / --preserve-import-paths.</param>
    /// <param name="baseImportPaths">-B / --base-import-paths.</param>
    /// <param name="bare">--bare.</param>
    /// <param name="names">How the face spells the three switches, in the order preserve, base, bare.</param>
    public static string? Overridden(bool preserveImportPaths, bool baseImportPaths, bool bare, (string Preserve, string Base, string Bare) names)
    {
        var set = new List<string>();
        if (preserveImportPaths)
        {
            set.Add(names.Preserve);
        }

        if (baseImportPaths)
        {
            set.Add(names.Base);
        }

        if (bare)
        {
            set.Add(names.Bare);
        }

        return set.Count < 2
            ? null
            : $"{string.Join(" and ", set)} were {(set.Count == 2 ? "both" : "all")} given; images are named by {set[0]} (as ko: {names.Preserve}, then {names.Base}, then {names.Bare}), and {string.Join(" and ", set.Skip(1))} {(set.Count == 2 ? "is" : "are")} ignored.";
    }
}
