using System.Reflection;
using KoAddins.FaceShared;

namespace Nuke.Ko;

/// <summary>
/// Engine hints in NUKE's terms: <c>--push=false</c> reads <c>SetPush(false)</c>, <c>dotnet ko login HOST ...</c> reads
/// <c>KoTasks.KoLogin(_ =&gt; _.SetRegistry("HOST")...)</c>. The table comes from the generated settings records.
/// </summary>
internal sealed class NukeHints : HostHints
{
    private static readonly Dictionary<string, string> Tasks = new(StringComparer.Ordinal)
    {
        ["build"] = "KoBuild",
        ["publish"] = "KoBuild",
        ["resolve"] = "KoResolve",
        ["apply"] = "KoApply",
        ["create"] = "KoCreate",
        ["delete"] = "KoDelete",
        ["push"] = "KoPush",
    };

    private NukeHints()
        : base(typeof(KoSettings).Assembly.GetExportedTypes().Where(t => t.IsSubclassOf(typeof(KoSettings))))
    {
    }

    /// <summary>The one instance (the table is built once).</summary>
    public static NukeHints Instance { get; } = new();

    /// <inheritdoc/>
    protected override string Verb => "call";

    /// <inheritdoc/>
    protected override string Render(PropertyInfo property, string? value) =>
        value is null && IsSwitch(property) ? $"Enable{property.Name}()" : $"Set{property.Name}({value ?? "…"})";

    /// <inheritdoc/>
    protected override string? RenderTask(string verb, IReadOnlyList<(PropertyInfo Property, string? Value)> settings) =>
        !Tasks.TryGetValue(verb, out var task) ? null
        : settings.Count == 0 ? $"KoTasks.{task}(…)"
        : $"KoTasks.{task}(_ => _{string.Concat(settings.Select(s => "." + Render(s.Property, s.Value)))})";

    /// <inheritdoc/>
    protected override string RenderLogin(string registry) => $"KoTasks.KoLogin(_ => _.SetRegistry({registry}).SetUsername(…).SetPassword(…))";
}
