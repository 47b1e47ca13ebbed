using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>Reads and edits image config JSON while keeping every field the engine does not touch.</summary>
internal static class ImageConfig
{
    public static string FormatTime(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>The platform the config declares; a <see cref="FormatException"/> when it is not a JSON object or a platform field is not a string.</summary>
    public static Platform ReadPlatform(ReadOnlySpan<byte> configBytes, string where = "the image config") => Platform.FromConfig(configBytes, where);

    /// <summary>
    /// The config's <c>rootfs.diff_ids</c>, after checking that every field the engine reads or edits has the type
    /// the image spec gives it (as ko's JSON decoding would): a mistyped base config is a <see cref="FormatException"/>
    /// naming <paramref name="where"/> and the field, never a crash later while the image is assembled.
    /// </summary>
    public static IReadOnlyList<Digest> ReadDiffIds(ReadOnlySpan<byte> configBytes, string where)
    {
        using var doc = OciJson.Parse(configBytes, where);
        var root = OciJson.Object(doc.RootElement, "the config", where);
        Validate(root, where);
        if (!root.TryGetProperty("rootfs", out var rootfs) || rootfs.ValueKind == JsonValueKind.Null
            || !rootfs.TryGetProperty("diff_ids", out var ids) || ids.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        return ids.EnumerateArray().Select((e, i) => Digest.TryParse(e.GetString(), out var d) ? d : throw new FormatException($"{where}: rootfs.diff_ids[{i}] '{e.GetString()}' is not a digest.")).ToList();
    }

    private static readonly string[] StringFields = ["created", "author", "architecture", "os", "variant", "os.version"];

    private static readonly string[] InnerStringFields = ["User", "WorkingDir", "StopSignal", "Hostname", "Domainname"];

    private static readonly string[] InnerListFields = ["Env", "Entrypoint", "Cmd", "Shell", "OnBuild"];

    private static readonly string[] HistoryStringFields = ["created", "created_by", "author", "comment"];

    private static void Validate(JsonElement root, string where)
    {
        RejectDuplicateKeys(root, "the config", where);
        foreach (var name in StringFields)
        {
            OciJson.OptionalString(root, name, where);
        }

        if (Optional(root, "config", JsonValueKind.Object, "an object", "config", where) is { } inner)
        {
            foreach (var name in InnerStringFields)
            {
                OciJson.OptionalString(inner, name, where, "config." + name);
            }

            foreach (var name in InnerListFields)
            {
                StringList(inner, name, "config." + name, where);
            }

            if (Optional(inner, "Labels", JsonValueKind.Object, "an object", "config.Labels", where) is { } labels)
            {
                foreach (var label in labels.EnumerateObject())
                {
                    OciJson.OptionalString(labels, label.Name, where, $"config.Labels.{label.Name}");
                }
            }

            Optional(inner, "ExposedPorts", JsonValueKind.Object, "an object", "config.ExposedPorts", where);
            Optional(inner, "Volumes", JsonValueKind.Object, "an object", "config.Volumes", where);
        }

        if (Optional(root, "rootfs", JsonValueKind.Object, "an object", "rootfs", where) is { } rootfs)
        {
            OciJson.OptionalString(rootfs, "type", where, "rootfs.type");
            StringList(rootfs, "diff_ids", "rootfs.diff_ids", where, allowNullItems: false);
        }

        if (Optional(root, "history", JsonValueKind.Array, "a list", "history", where) is { } history)
        {
            var i = 0;
            foreach (var entry in history.EnumerateArray())
            {
                var field = $"history[{i++}]";
                OciJson.Object(entry, field, where);
                foreach (var name in HistoryStringFields)
                {
                    OciJson.OptionalString(entry, name, where, $"{field}.{name}");
                }

                if (entry.TryGetProperty("empty_layer", out var empty) && empty.ValueKind is not (JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null))
                {
                    throw OciJson.WrongType(field + ".empty_layer", "true or false", empty, where);
                }
            }
        }
    }

    // A name written twice in one object: the config is re-written from a JSON node tree, which cannot hold it
    // (and which of the two values was meant is anyone's guess). Depth is bounded by the reader's 64 levels.
    private static void RejectDuplicateKeys(JsonElement element, string field, string where)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in element.EnumerateObject())
            {
                var path = field == "the config" ? property.Name : field + "." + property.Name;
                if (!seen.Add(property.Name))
                {
                    throw new FormatException($"{where}: '{path}' is written twice; a key may appear once in a JSON object.");
                }

                RejectDuplicateKeys(property.Value, path, where);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var i = 0;
            foreach (var item in element.EnumerateArray())
            {
                RejectDuplicateKeys(item, $"{field}[{i++}]", where);
            }
        }
    }

    // The property when present and not null; it must then be of the given kind.
    private static JsonElement? Optional(JsonElement parent, string name, JsonValueKind kind, string expected, string field, string where)
    {
        if (!parent.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == kind ? value : throw OciJson.WrongType(field, expected, value, where);
    }

    private static void StringList(JsonElement parent, string name, string field, string where, bool allowNullItems = true)
    {
        if (Optional(parent, name, JsonValueKind.Array, "a list of strings", field, where) is not { } list)
        {
            return;
        }

        var i = 0;
        foreach (var item in list.EnumerateArray())
        {
            if (!(item.ValueKind == JsonValueKind.String || (allowNullItems && item.ValueKind == JsonValueKind.Null)))
            {
                throw OciJson.WrongType($"{field}[{i}]", "a string", item, where);
            }

            i++;
        }
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

        env.Add((JsonNode)JsonValue.Create("PATH=" + dir));
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
        catch (ArgumentException ex)
        {
            throw new FormatException($"{where}: the config has a key written twice in one object.", ex);
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
