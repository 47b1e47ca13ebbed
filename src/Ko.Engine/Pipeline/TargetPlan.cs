using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Pipeline;

/// <summary>
/// The packages stage's record: for each pattern as given, what to build (the pattern go builds, its settings, its
/// base and platforms), plus the bases being opened and the <c>go list</c> still running (builds start before it
/// ends). Disposing it releases the bases (a registry base holds an HTTP client until the last push).
/// </summary>
internal sealed class TargetPlan(
    IReadOnlyList<string> patterns,
    IReadOnlyList<string> buildPatterns,
    IReadOnlyList<BuildSettings> settings,
    IReadOnlyList<IReadOnlyList<Platform>> platforms,
    IReadOnlyDictionary<string, Task<BaseImage>> bases,
    Task<IReadOnlyList<GoPackage>> list) : IAsyncDisposable
{
    /// <summary>The patterns (import paths) as given, after wildcard expansion.</summary>
    public IReadOnlyList<string> Patterns { get; } = patterns;

    /// <summary>What go builds for each pattern (an import path where a relative pattern means nothing in another module's dir).</summary>
    public IReadOnlyList<string> BuildPatterns { get; } = buildPatterns;

    public IReadOnlyList<BuildSettings> Settings { get; } = settings;

    public IReadOnlyList<IReadOnlyList<Platform>> Platforms { get; } = platforms;

    /// <summary>The bases by name, being opened.</summary>
    public IReadOnlyDictionary<string, Task<BaseImage>> Bases { get; } = bases;

    /// <summary>go list of the patterns, in order.</summary>
    public Task<IReadOnlyList<GoPackage>> List { get; } = list;

    public async ValueTask DisposeAsync()
    {
        // A base still opening was cancelled with the run; one that never opened has nothing to release.
        await Stages.Quietly(Bases.Values.Cast<Task>().Append(List)).ConfigureAwait(false);
        foreach (var task in Bases.Values.Where(t => t.IsCompletedSuccessfully))
        {
            (await task.ConfigureAwait(false)).Dispose();
        }
    }
}
