using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.Images;

/// <summary>
/// Writes an image config the way ko does: ko decodes the base's config into go-containerregistry's v1.ConfigFile
/// (pkg/v1/config.go), edits it and marshals it with Go's encoding/json. So the bytes have that struct's field order
/// (architecture, author, container, created, docker_version, history, os, rootfs, config, os.version, variant,
/// os.features; inside config the order of v1.Config), its omitempty rules (architecture, os, created, rootfs and
/// config are always written), map keys sorted, fields the struct lacks dropped, and Go's string escaping
/// (<c>&lt; &gt; &amp;</c> as <c>\u003c \u003e \u0026</c>, U+2028/U+2029 escaped, other non-ASCII as UTF-8).
/// </summary>
internal static class GoConfigJson
{
    private const string GoZeroTime = "0001-01-01T00:00:00Z";

    /// <summary>The config's bytes as ko writes them.</summary>
    /// <exception cref="FormatException">A field has a type v1.ConfigFile cannot hold (ko fails to decode such a base too).</exception>
    public static byte[] Serialize(JsonObject config)
    {
        var b = new StringBuilder(4096);
        b.Append('{');
        Str(b, "architecture", Text(config["architecture"]), omitEmpty: false);
        Str(b, "author", Text(config["author"]));
        Str(b, "container", Text(config["container"]));
        Raw(b, "created", Quote(Time(config["created"])));
        Str(b, "docker_version", Text(config["docker_version"]));
        if (config["history"] is JsonArray { Count: > 0 } history)
        {
            Raw(b, "history", "[" + string.Join(",", history.Select(History)) + "]");
        }

        Str(b, "os", Text(config["os"]), omitEmpty: false);
        Raw(b, "rootfs", RootFs(config["rootfs"] as JsonObject));
        Raw(b, "config", Inner(config["config"] as JsonObject));
        Str(b, "os.version", Text(config["os.version"]));
        Str(b, "variant", Text(config["variant"]));
        if (Strings(config["os.features"]) is { Count: > 0 } features)
        {
            Raw(b, "os.features", List(features));
        }

        b.Append('}');
        return Encoding.UTF8.GetBytes(b.ToString());
    }

    private static string History(JsonNode? node)
    {
        var entry = node as JsonObject ?? [];
        var b = new StringBuilder("{");
        Str(b, "author", Text(entry["author"]));
        Raw(b, "created", Quote(Time(entry["created"])));
        Str(b, "created_by", Text(entry["created_by"]));
        Str(b, "comment", Text(entry["comment"]));
        Bool(b, "empty_layer", entry["empty_layer"]);
        return b.Append('}').ToString();
    }

    private static string RootFs(JsonObject? rootfs)
    {
        var b = new StringBuilder("{");
        Str(b, "type", Text(rootfs?["type"]), omitEmpty: false);
        Raw(b, "diff_ids", rootfs?["diff_ids"] is JsonArray ids ? List(Strings(ids)!) : "null");
        return b.Append('}').ToString();
    }

    // v1.Config's fields in declaration order.
    private static string Inner(JsonObject? c)
    {
        c ??= [];
        var b = new StringBuilder("{");
        Bool(b, "AttachStderr", c["AttachStderr"]);
        Bool(b, "AttachStdin", c["AttachStdin"]);
        Bool(b, "AttachStdout", c["AttachStdout"]);
        ListField(b, "Cmd", c["Cmd"]);
        if (c["Healthcheck"] is JsonObject health)
        {
            Raw(b, "Healthcheck", Healthcheck(health));
        }

        Str(b, "Domainname", Text(c["Domainname"]));
        ListField(b, "Entrypoint", c["Entrypoint"]);
        ListField(b, "Env", c["Env"]);
        Str(b, "Hostname", Text(c["Hostname"]));
        Str(b, "Image", Text(c["Image"]));
        if (c["Labels"] is JsonObject { Count: > 0 } labels)
        {
            Raw(b, "Labels", "{" + string.Join(",", SortedKeys(labels).Select(k => Quote(k) + ":" + Quote(Text(labels[k])))) + "}");
        }

        ListField(b, "OnBuild", c["OnBuild"]);
        Bool(b, "OpenStdin", c["OpenStdin"]);
        Bool(b, "StdinOnce", c["StdinOnce"]);
        Bool(b, "Tty", c["Tty"]);
        Str(b, "User", Text(c["User"]));
        Set(b, "Volumes", c["Volumes"]);
        Str(b, "WorkingDir", Text(c["WorkingDir"]));
        Set(b, "ExposedPorts", c["ExposedPorts"]);
        Bool(b, "ArgsEscaped", c["ArgsEscaped"]);
        Bool(b, "NetworkDisabled", c["NetworkDisabled"]);
        Str(b, "MacAddress", Text(c["MacAddress"]));
        Str(b, "StopSignal", Text(c["StopSignal"]));
        ListField(b, "Shell", c["Shell"]);
        return b.Append('}').ToString();
    }

    private static string Healthcheck(JsonObject h)
    {
        var b = new StringBuilder("{");
        ListField(b, "Test", h["Test"]);
        foreach (var name in new[] { "Interval", "Timeout", "StartPeriod", "StartInterval", "Retries" })
        {
            if (h[name] is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
            {
                var n = v.TryGetValue<long>(out var l) ? l : throw new FormatException($"the config's config.Healthcheck.{name} is not a whole number.");
                if (n != 0)
                {
                    Raw(b, name, n.ToString(CultureInfo.InvariantCulture));
                }
            }
        }

        return b.Append('}').ToString();
    }

    // map[string]struct{}: sorted keys, each value {}.
    private static void Set(StringBuilder b, string name, JsonNode? node)
    {
        if (node is JsonObject { Count: > 0 } set)
        {
            Raw(b, name, "{" + string.Join(",", SortedKeys(set).Select(k => Quote(k) + ":{}")) + "}");
        }
    }

    // Go sorts map keys by their UTF-8 bytes.
    private static IEnumerable<string> SortedKeys(JsonObject o) =>
        o.Select(kv => kv.Key).OrderBy(k => Encoding.UTF8.GetBytes(k), ByteOrder.Instance);

    private static void ListField(StringBuilder b, string name, JsonNode? node)
    {
        if (Strings(node) is { Count: > 0 } items)
        {
            Raw(b, name, List(items));
        }
    }

    private static string List(IEnumerable<string> items) => "[" + string.Join(",", items.Select(Quote)) + "]";

    // A null item decodes into Go's "" (ImageConfig.Validate has refused every other non-string).
    private static List<string>? Strings(JsonNode? node) => node is JsonArray a ? a.Select(Text).ToList() : null;

    private static string Text(JsonNode? node) => node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : string.Empty;

    private static void Str(StringBuilder b, string name, string value, bool omitEmpty = true)
    {
        if (!omitEmpty || value.Length > 0)
        {
            Raw(b, name, Quote(value));
        }
    }

    private static void Bool(StringBuilder b, string name, JsonNode? node)
    {
        if (node is JsonValue v && v.GetValueKind() == JsonValueKind.True)
        {
            Raw(b, name, "true");
        }
    }

    private static void Raw(StringBuilder b, string name, string json)
    {
        if (b[^1] != '{')
        {
            b.Append(',');
        }

        b.Append(Quote(name)).Append(':').Append(json);
    }

    /// <summary>
    /// A time as Go's time.Time marshals it (RFC 3339 with nanoseconds, trailing zeros of the fraction dropped, Z for a
    /// zero offset); missing or unreadable is Go's zero time, which is what decoding left in v1.Time.
    /// </summary>
    internal static string Time(JsonNode? node)
    {
        var text = Text(node);
        var fraction = string.Empty;
        if (text.Length > 19 && text[19] == '.')
        {
            var end = 20;
            while (end < text.Length && char.IsAsciiDigit(text[end]))
            {
                end++;
            }

            fraction = text[19..end].TrimEnd('0');
            fraction = fraction == "." ? string.Empty : fraction;
            text = text[..19] + text[end..];
        }

        if (!DateTimeOffset.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ssK", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed) || !(text.EndsWith('Z') || text.Length == 25))
        {
            return GoZeroTime;
        }

        var offset = parsed.Offset == TimeSpan.Zero ? "Z" : parsed.ToString("zzz", CultureInfo.InvariantCulture);
        return parsed.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + fraction + offset;
    }

    /// <summary>A JSON string as Go's encoding/json writes it (HTML-safe escaping, as json.Marshal does).</summary>
    internal static string Quote(string s)
    {
        var b = new StringBuilder(s.Length + 2);
        b.Append('"');
        for (var i = 0; i < s.Length; i++)
        {
            var c = s[i];
            switch (c)
            {
                case '"': b.Append("\\\""); break;
                case '\\': b.Append("\\\\"); break;
                case '\n': b.Append("\\n"); break;
                case '\r': b.Append("\\r"); break;
                case '\t': b.Append("\\t"); break;
                case '\b': b.Append("\\b"); break;
                case '\f': b.Append("\\f"); break;
                case '<' or '>' or '&' or '\u2028' or '\u2029':
                case < ' ':
                    b.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    break;
                default:
                    if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
                    {
                        b.Append(c).Append(s[++i]);
                    }
                    else if (char.IsSurrogate(c))
                    {
                        // Go decodes a lone surrogate escape as U+FFFD and writes that character.
                        b.Append('\uFFFD');
                    }
                    else
                    {
                        b.Append(c);
                    }

                    break;
            }
        }

        return b.Append('"').ToString();
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
