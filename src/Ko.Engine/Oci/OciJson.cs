using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.Oci;

/// <summary>JSON helpers that write OCI documents in one fixed, deterministic form.</summary>
internal static class OciJson
{
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        return buffer.WrittenSpan.ToArray();
    }

    // Written straight through Utf8JsonWriter: the serializer's reflection set-up costs more than a whole
    // no-op rebuild can spare.
    internal static byte[] Serialize(JsonNode node) => Write(w => node.WriteTo(w));

    internal static void WriteAnnotations(Utf8JsonWriter writer, IReadOnlyDictionary<string, string>? annotations, string name = "annotations")
    {
        if (annotations is null || annotations.Count == 0)
        {
            return;
        }

        writer.WriteStartObject(name);
        foreach (var (key, value) in annotations.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.WriteString(key, value);
        }

        writer.WriteEndObject();
    }

    internal static IReadOnlyDictionary<string, string>? ReadAnnotations(JsonElement element)
    {
        if (!element.TryGetProperty("annotations", out var a) || a.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var property in a.EnumerateObject())
        {
            result[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
        }

        return result;
    }

    internal static string RequiredString(JsonElement element, string name, string where)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw new FormatException($"{where}: required string '{name}' is missing.");
        }

        return value.GetString()!;
    }

    /// <summary>Parses a JSON document (64 levels deep at most); malformed JSON is a <see cref="FormatException"/> naming <paramref name="where"/>.</summary>
    internal static JsonDocument Parse(ReadOnlySpan<byte> bytes, string where)
    {
        // JsonDocument checks a string's UTF-8 only when it is read (GetString throws InvalidOperationException).
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new FormatException($"{where}: not valid JSON (it is not valid UTF-8).");
        }

        try
        {
            return JsonDocument.Parse(bytes.ToArray());
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{where}: not valid JSON ({ex.Message}).", ex);
        }
    }

    /// <summary>The element itself when it is a JSON object; else a <see cref="FormatException"/> naming the document and the field.</summary>
    internal static JsonElement Object(JsonElement element, string field, string where) =>
        element.ValueKind == JsonValueKind.Object ? element : throw WrongType(field, "an object", element, where);

    /// <summary>The string value of <paramref name="name"/>; null when absent or JSON null; a <see cref="FormatException"/> when it is another type.</summary>
    internal static string? OptionalString(JsonElement element, string name, string where, string? field = null)
    {
        if (element.ValueKind != JsonValueKind.Object || !element.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String ? value.GetString() : throw WrongType(field ?? name, "a string", value, where);
    }

    /// <summary>An error naming the document, the field, what it must be and what it is.</summary>
    internal static FormatException WrongType(string field, string expected, JsonElement actual, string where) =>
        new($"{where}: '{field}' must be {expected}, not {Describe(actual)}.");

    private static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "missing",
    };
}
