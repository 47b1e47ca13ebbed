using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.References;

namespace Ko.Engine.Records;

/// <summary>
/// The build record's JSON: written with a fixed property order; read as hostile input (bounded depth, counts and
/// lengths; every field's type checked; digests, platforms and references parsed; the reference must carry the
/// recorded digest). Unknown properties are ignored so a newer writer's additions do not break an older reader.
/// </summary>
internal static class BuildRecordJson
{
    public static byte[] Write(BuildRecord record)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("schema", BuildRecord.Schema);
            w.WriteStartArray("images");
            foreach (var image in record.Images)
            {
                WriteImage(w, image);
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        buffer.WriteByte((byte)'\n');
        return buffer.ToArray();
    }

    private static void WriteImage(Utf8JsonWriter w, KoImageResult image)
    {
        w.WriteStartObject();
        w.WriteString("importPath", image.ImportPath);
        w.WriteString("name", image.Name);
        w.WriteString("reference", image.Reference);
        w.WriteString("digest", image.Digest.ToString());
        w.WriteString("mediaType", image.MediaType);
        w.WriteStartArray("platforms");
        var digests = image.PlatformImages.ToDictionary(p => p.Platform, p => p.Digest);
        foreach (var platform in image.Platforms)
        {
            w.WriteStartObject();
            w.WriteString("platform", platform.ToString());
            if (digests.TryGetValue(platform, out var digest))
            {
                w.WriteString("digest", digest.ToString());
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        WriteStrings(w, "tags", image.Tags);
        WriteStrings(w, "sboms", image.SbomReferences);
        if (image.Base is { } b)
        {
            w.WriteStartObject("base");
            w.WriteString("name", b.Name);
            if (b.Digest is { } d)
            {
                w.WriteString("digest", d.ToString());
            }

            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
        {
            w.WriteStringValue(v);
        }

        w.WriteEndArray();
    }

    public static BuildRecord Parse(ReadOnlyMemory<byte> json, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (json.Length > BuildRecord.MaxFileBytes)
        {
            throw Invalid(source, $"is {json.Length} bytes, more than the {BuildRecord.MaxFileBytes} a build record may have");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException ex)
        {
            throw Invalid(source, $"is not JSON ({ex.Message.TrimEnd('.')})", ex);
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(source, $"is a JSON {Kind(root)}, not a build record object");
            }

            var schema = String(root, "schema", "", source);
            if (schema != BuildRecord.Schema)
            {
                throw Invalid(source, $"has schema '{Show(schema)}', not {BuildRecord.Schema}");
            }

            var images = Array(root, "images", "", source, BuildRecord.Limits.Images);
            var result = new List<KoImageResult>(images.Count);
            for (var i = 0; i < images.Count; i++)
            {
                result.Add(ReadImage(images[i], $"images[{i}]", source));
            }

            return new BuildRecord(result, source);
        }
    }

    private static KoImageResult ReadImage(JsonElement e, string at, string source)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(source, $"{at} is a JSON {Kind(e)}, not an object");
        }

        var importPath = String(e, "importPath", at, source);
        var name = String(e, "name", at, source);
        var reference = String(e, "reference", at, source);
        var digest = DigestOf(String(e, "digest", at, source), $"{at}.digest", source);
        var mediaType = String(e, "mediaType", at, source);
        if (importPath.Length == 0 || importPath.Any(char.IsControl) || importPath.Contains(' ', StringComparison.Ordinal))
        {
            throw Invalid(source, $"{at}.importPath '{Show(importPath)}' is not an import path");
        }

        if (!ImageReference.TryParse(reference, out var parsed, out var error))
        {
            throw Invalid(source, $"{at}.reference '{ImageReference.Redact(Show(reference))}' is not an image reference: {error}");
        }

        if (parsed.Digest is { } referenced && referenced != digest)
        {
            throw Invalid(source, $"{at}.reference names {referenced}, but {at}.digest is {digest}");
        }

        if (!ImageReference.TryParse(name, out _, out var nameError))
        {
            throw Invalid(source, $"{at}.name '{ImageReference.Redact(Show(name))}' is not an image name: {nameError}");
        }

        var platforms = new List<Platform>();
        var platformImages = new List<KoPlatformImage>();
        var items = Array(e, "platforms", at, source, BuildRecord.Limits.Items);
        for (var i = 0; i < items.Count; i++)
        {
            var p = items[i];
            var pat = $"{at}.platforms[{i}]";
            if (p.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(source, $"{pat} is a JSON {Kind(p)}, not an object");
            }

            var platform = PlatformOf(String(p, "platform", pat, source), $"{pat}.platform", source);
            platforms.Add(platform);
            if (OptionalString(p, "digest", pat, source) is { } pd)
            {
                platformImages.Add(new KoPlatformImage(platform, DigestOf(pd, $"{pat}.digest", source)));
            }
        }

        KoBaseImage? baseImage = null;
        if (e.TryGetProperty("base", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            if (b.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(source, $"{at}.base is a JSON {Kind(b)}, not an object");
            }

            var baseDigest = OptionalString(b, "digest", $"{at}.base", source);
            baseImage = new KoBaseImage(String(b, "name", $"{at}.base", source), baseDigest is null ? null : DigestOf(baseDigest, $"{at}.base.digest", source));
        }

        return new KoImageResult(importPath, name, reference, digest, mediaType, platforms, Strings(e, "tags", at, source))
        {
            PlatformImages = platformImages,
            SbomReferences = Strings(e, "sboms", at, source),
            Base = baseImage,
        };
    }

    private static string String(JsonElement e, string property, string at, string source) =>
        OptionalString(e, property, at, source) ?? throw Invalid(source, $"{Path(at, property)} is missing");

    private static string? OptionalString(JsonElement e, string property, string at, string source)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind != JsonValueKind.String)
        {
            throw Invalid(source, $"{Path(at, property)} is a JSON {Kind(v)}, not a string");
        }

        var s = v.GetString()!;
        if (s.Length > BuildRecord.Limits.Length)
        {
            throw Invalid(source, $"{Path(at, property)} is {s.Length} characters long, more than {BuildRecord.Limits.Length}");
        }

        return s;
    }

    private static List<JsonElement> Array(JsonElement e, string property, string at, string source, int max)
    {
        if (!e.TryGetProperty(property, out var v))
        {
            throw Invalid(source, $"{Path(at, property)} is missing");
        }

        if (v.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(source, $"{Path(at, property)} is a JSON {Kind(v)}, not an array");
        }

        var n = v.GetArrayLength();
        if (n > max)
        {
            throw Invalid(source, $"{Path(at, property)} has {n} entries, more than {max}");
        }

        return v.EnumerateArray().ToList();
    }

    private static List<string> Strings(JsonElement e, string property, string at, string source)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        var items = Array(e, property, at, source, BuildRecord.Limits.Items);
        var result = new List<string>(items.Count);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].ValueKind != JsonValueKind.String)
            {
                throw Invalid(source, $"{Path(at, property)}[{i}] is a JSON {Kind(items[i])}, not a string");
            }

            result.Add(items[i].GetString()!);
        }

        return result;
    }

    private static Digest DigestOf(string value, string at, string source) =>
        Digest.TryParse(value, out var d) ? d : throw Invalid(source, $"{at} '{Show(value)}' is not a digest (sha256:<64 hex digits>)");

    private static Platform PlatformOf(string value, string at, string source)
    {
        try
        {
            return Platform.Parse(value);
        }
        catch (KoException ex)
        {
            throw Invalid(source, $"{at}: {ex.Message.TrimEnd('.')}", ex);
        }
    }

    private static string Path(string at, string property) => at.Length == 0 ? property : $"{at}.{property}";

    private static string Kind(JsonElement e) => e.ValueKind.ToString().ToLowerInvariant();

    /// <summary>A value from the file, short and on one line, for a message.</summary>
    private static string Show(string value)
    {
        var s = new string(value.Take(80).Select(c => char.IsControl(c) ? '?' : c).ToArray());
        return value.Length > 80 ? s + "…" : s;
    }

    private static KoException Invalid(string source, string what, Exception? inner = null) =>
        new(KoErrorCodes.BuildRecordInvalid, $"the build record {source} {what}. Use the file that dotnet ko build --build-record (or KoBuild with BuildRecordPath) wrote, unchanged.", inner);
}
