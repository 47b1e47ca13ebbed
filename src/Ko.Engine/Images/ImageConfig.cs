using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>Reads and edits image config JSON while keeping every field the engine does not touch.</summary>
internal static class ImageConfig
{
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static Platform ReadPlatform(ReadOnlySpan<byte> configBytes)
    {
        using var doc = JsonDocument.Parse(configBytes.ToArray());
        var root = doc.RootElement;
        string Get(string name) => root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
        var variant = Get("variant");
        return new Platform(Get("os"), Get("architecture"), variant.Length == 0 ? null : variant);
    }

    public static IReadOnlyList<Digest> ReadDiffIds(ReadOnlySpan<byte> configBytes, string where)
    {
        using var doc = JsonDocument.Parse(configBytes.ToArray());
        if (!doc.RootElement.TryGetProperty("rootfs", out var rootfs) || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind != JsonValueKind.Array)
        {
            return [];
        }

        return ids.EnumerateArray().Select(e => Digest.TryParse(e.GetString(), out var d) ? d : throw new FormatException($"{where}: bad diff_id '{e}'.")).ToList();
    }

    /// <summary>Appends <c>:dir</c> to the first <c>PATH=</c> entry, or adds <c>PATH=dir</c>, as ko does.</summary>
    public static void AppendToPath(JsonArray env, string dir)
    {
        for (var i = 0; i < env.Count; i++)
        {
            if (env[i]?.GetValue<string>() is { } e && e.StartsWith("PATH=", StringComparison.Ordinal))
            {
                env[i] = e + ":" + dir;
                return;
            }
        }

        env.Add("PATH=" + dir);
    }

    public static JsonObject ParseObject(ReadOnlySpan<byte> bytes, string where)
    {
        try
        {
            return JsonNode.Parse(bytes) as JsonObject ?? throw new FormatException($"{where}: the config is not a JSON object.");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{where}: the config is not valid JSON ({ex.Message}).", ex);
        }
    }

    public static JsonObject ChildObject(JsonObject parent, string name)
    {
        if (parent[name] is JsonObject existing)
        {
            return existing;
        }

        var created = new JsonObject();
        parent[name] = created;
        return created;
    }

    public static JsonArray ChildArray(JsonObject parent, string name)
    {
        if (parent[name] is JsonArray existing)
        {
            return existing;
        }

        var created = new JsonArray();
        parent[name] = created;
        return created;
    }
}
