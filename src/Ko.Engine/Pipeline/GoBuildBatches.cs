using System.Collections.Concurrent;
using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Pipeline;

/// <summary>
/// Groups a run's (pattern, platform) builds that one <c>go build -o DIR pkg1 pkg2 ...</c> can do: the same
/// platform, directory, flags and environment, and patterns that are import paths (go names a relative pattern's
/// binary after the package, which is not known before go list). A group of one is no batch. Each batch runs once,
/// when the first of its builds is asked for.
/// </summary>
internal sealed class GoBuildBatches(TargetPlan targets)
{
    private readonly Dictionary<(int Index, Platform Platform), Batch> _batchOf = Group(targets);
    private readonly ConcurrentDictionary<string, Lazy<Task<IReadOnlyDictionary<int, string>>>> _running = new(StringComparer.Ordinal);

    /// <summary>One batch: a stable key (settings, platform and the sorted patterns: the output directory's name), its platform and its patterns' indexes.</summary>
    internal sealed record Batch(string Key, Platform Platform, IReadOnlyList<int> Indices);

    /// <summary>
    /// The batch that builds pattern <paramref name="index"/> for <paramref name="platform"/> and its run (started by
    /// <paramref name="build"/> on first use; it maps each index to its binary), or null when it is built alone.
    /// </summary>
    public (Batch Batch, Task<IReadOnlyDictionary<int, string>> Outputs)? For(int index, Platform platform, Func<Batch, Task<IReadOnlyDictionary<int, string>>> build)
    {
        if (!_batchOf.TryGetValue((index, platform), out var batch))
        {
            return null;
        }

        return (batch, _running.GetOrAdd(batch.Key, _ => new Lazy<Task<IReadOnlyDictionary<int, string>>>(() => build(batch))).Value);
    }

    private static Dictionary<(int, Platform), Batch> Group(TargetPlan targets)
    {
        var groups = new Dictionary<string, (Platform Platform, List<int> Indices)>(StringComparer.Ordinal);
        for (var i = 0; i < targets.BuildPatterns.Count; i++)
        {
            var pattern = targets.BuildPatterns[i];
            if (!IsImportPath(pattern))
            {
                continue;
            }

            foreach (var platform in targets.Platforms[i].Distinct())
            {
                var key = SettingsKey(targets.Settings[i], platform);
                if (!groups.TryGetValue(key, out var group))
                {
                    groups[key] = group = (platform, []);
                }

                // The same package twice (two spellings go list merged) is built once, alone.
                if (!group.Indices.Any(j => targets.BuildPatterns[j] == pattern))
                {
                    group.Indices.Add(i);
                }
            }
        }

        var result = new Dictionary<(int, Platform), Batch>();
        foreach (var (key, (platform, indices)) in groups.Where(g => g.Value.Indices.Count > 1))
        {
            var batch = new Batch(CacheKey.Of([key, .. indices.Select(i => targets.BuildPatterns[i]).Order(StringComparer.Ordinal)]), platform, indices);
            foreach (var i in indices)
            {
                result[(i, platform)] = batch;
            }
        }

        return result;
    }

    /// <summary>
    /// A pattern whose binary go names after its last element (as <see cref="Go.GoTool.ExecutableName"/> does): an
    /// import path (<c>example.com/cmd/x</c>) or a relative one below the directory (<c>./cmd/x</c>); not <c>.</c>,
    /// <c>..</c> or anything with such an element (named after the package, unknown before go list), an absolute
    /// path, a wildcard or a file.
    /// </summary>
    private static bool IsImportPath(string pattern)
    {
        var rest = pattern.StartsWith("./", StringComparison.Ordinal) ? pattern[2..] : pattern;
        return rest.Length > 0 && rest[0] is not '/' and not '-'
            && !rest.Contains("...", StringComparison.Ordinal) && !rest.EndsWith(".go", StringComparison.Ordinal)
            && rest.TrimEnd('/').Split('/').All(e => e is not "." and not ".." and not "");
    }

    private static string SettingsKey(Configuration.BuildSettings s, Platform platform)
    {
        var parts = new List<string> { "go-build-batch-v1", platform.ToString(), Path.GetFullPath(s.Directory), "flags", s.Flags.Count.ToString(System.Globalization.CultureInfo.InvariantCulture) };
        parts.AddRange(s.Flags);
        foreach (var (k, v) in s.Environment.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            parts.Add(k);
            parts.Add(v is null ? "\0unset" : "=" + v);
        }

        return CacheKey.Of([.. parts]);
    }
}
