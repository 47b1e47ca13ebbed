using System.Reflection;
using KoAddins.FaceShared;

namespace Cake.Ko;

/// <summary>
/// Engine hints in Cake's terms: <c>--push=false</c> reads <c>Push = false</c>, <c>dotnet ko login HOST ...</c> reads
/// <c>KoLogin("HOST", user, password)</c>. The table comes from the Cake settings types themselves.
/// </summary>
internal sealed class CakeHints : HostHints
{
    private static readonly Dictionary<string, (string Alias, string Settings)> Tasks = new(StringComparer.Ordinal)
    {
        ["build"] = ("KoBuild", nameof(KoBuildSettings)),
        ["publish"] = ("KoBuild", nameof(KoBuildSettings)),
        ["resolve"] = ("KoResolve", nameof(KoResolveSettings)),
        ["apply"] = ("KoApply", nameof(KoApplySettings)),
        ["create"] = ("KoCreate", nameof(KoApplySettings)),
        ["delete"] = ("KoDelete", nameof(KoDeleteSettings)),
        ["push"] = ("KoPush", nameof(KoPushSettings)),
    };

    private CakeHints()
        : base([typeof(KoBuildSettings), typeof(KoResolveSettings), typeof(KoApplySettings), typeof(KoDeleteSettings), typeof(KoPushSettings), typeof(KoLoginSettings)])
    {
    }

    /// <summary>The one instance (the table is built once).</summary>
    public static CakeHints Instance { get; } = new();

    /// <inheritdoc/>
    protected override string Verb => "set";

    /// <inheritdoc/>
    protected override string Render(PropertyInfo property, string? value) =>
        value is null && IsSwitch(property) ? $"{property.Name} = true"
        : value is null ? property.Name
        : $"{property.Name} = {value}";

    /// <inheritdoc/>
    protected override string? RenderTask(string verb, IReadOnlyList<(PropertyInfo Property, string? Value)> settings)
    {
        if (!Tasks.TryGetValue(verb, out var task))
        {
            return null;
        }

        return settings.Count == 0
            ? $"{task.Alias}(…)"
            : $"{task.Alias}(…, new {task.Settings} {{ {Join(settings.Select(s => $"{s.Property.Name} = {s.Value ?? (IsSwitch(s.Property) ? "true" : "…")}"), ", ")} }})";
    }

    /// <inheritdoc/>
    protected override string RenderLogin(string registry) => $"KoLogin({registry}, username, password)";
}
