using System.Text.Json;

namespace Ko.Engine.Oci;

/// <summary>An image manifest (OCI or Docker schema 2).</summary>
/// <param name="MediaType">The manifest's media type.</param>
/// <param name="Config">The config descriptor.</param>
/// <param name="Layers">The layer descriptors, base first.</param>
public sealed record Manifest(string MediaType, Descriptor Config, IReadOnlyList<Descriptor> Layers)
{
    /// <summary>Manifest annotations.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The subject, for artifacts that refer to another manifest.</summary>
    public Descriptor? Subject { get; init; }

    /// <summary>The artifact type, for artifacts.</summary>
    public string? ArtifactType { get; init; }

    /// <summary>Serialises the manifest in the engine's fixed form; hash exactly these bytes.</summary>
    public byte[] ToBytes() => OciJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", MediaType);
        if (ArtifactType is not null)
        {
            w.WriteString("artifactType", ArtifactType);
        }

        w.WritePropertyName("config");
        Config.WriteTo(w);
        w.WriteStartArray("layers");
        foreach (var layer in Layers)
        {
            layer.WriteTo(w);
        }

        w.WriteEndArray();
        if (Subject is not null)
        {
            w.WritePropertyName("subject");
            Subject.WriteTo(w);
        }

        OciJson.WriteAnnotations(w, Annotations);
        w.WriteEndObject();
    });

    /// <summary>Parses manifest bytes. A manifest without a media type is taken as OCI.</summary>
    /// <param name="bytes">The raw manifest.</param>
    /// <param name="where">Where the bytes came from, for error messages.</param>
    /// <exception cref="FormatException">The bytes are not JSON, or a field has the wrong type; the message names <paramref name="where"/> and the field.</exception>
    public static Manifest Parse(ReadOnlySpan<byte> bytes, string where)
    {
        using var doc = OciJson.Parse(bytes, where);
        var root = OciJson.Object(doc.RootElement, "the manifest", where);
        var mediaType = OciJson.OptionalString(root, "mediaType", where) ?? MediaTypes.OciManifest;
        if (!MediaTypes.IsManifest(mediaType))
        {
            throw new FormatException($"{where}: media type '{mediaType}' is not an image manifest.");
        }

        if (!root.TryGetProperty("config", out var config))
        {
            throw new FormatException($"{where}: manifest has no config.");
        }

        var layers = new List<Descriptor>();
        if (root.TryGetProperty("layers", out var ls) && ls.ValueKind != JsonValueKind.Null)
        {
            if (ls.ValueKind != JsonValueKind.Array)
            {
                throw OciJson.WrongType("layers", "a list", ls, where);
            }

            foreach (var l in ls.EnumerateArray())
            {
                layers.Add(Descriptor.Read(l, where, $"layers[{layers.Count}]"));
            }
        }

        return new Manifest(mediaType, Descriptor.Read(config, where, "config"), layers)
        {
            Annotations = OciJson.ReadAnnotations(root),
            Subject = root.TryGetProperty("subject", out var s) && s.ValueKind != JsonValueKind.Null ? Descriptor.Read(s, where, "subject") : null,
            ArtifactType = OciJson.OptionalString(root, "artifactType", where),
        };
    }
}

/// <summary>An image index (OCI index or Docker manifest list).</summary>
/// <param name="MediaType">The index's media type.</param>
/// <param name="Manifests">The children.</param>
public sealed record Index(string MediaType, IReadOnlyList<Descriptor> Manifests)
{
    /// <summary>Index annotations.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>Serialises the index in the engine's fixed form; hash exactly these bytes.</summary>
    public byte[] ToBytes() => OciJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("schemaVersion", 2);
        w.WriteString("mediaType", MediaType);
        w.WriteStartArray("manifests");
        foreach (var m in Manifests)
        {
            m.WriteTo(w);
        }

        w.WriteEndArray();
        OciJson.WriteAnnotations(w, Annotations);
        w.WriteEndObject();
    });

    /// <summary>Parses index bytes. An index without a media type is taken as OCI.</summary>
    /// <param name="bytes">The raw index.</param>
    /// <param name="where">Where the bytes came from, for error messages.</param>
    /// <exception cref="FormatException">The bytes are not JSON, or a field has the wrong type; the message names <paramref name="where"/> and the field.</exception>
    public static Index Parse(ReadOnlySpan<byte> bytes, string where)
    {
        using var doc = OciJson.Parse(bytes, where);
        var root = OciJson.Object(doc.RootElement, "the index", where);
        var mediaType = OciJson.OptionalString(root, "mediaType", where) ?? MediaTypes.OciIndex;
        if (!root.TryGetProperty("manifests", out var ms) || ms.ValueKind != JsonValueKind.Array)
        {
            throw new FormatException($"{where}: index has no 'manifests' array.");
        }

        var manifests = ms.EnumerateArray().Select((m, i) => Descriptor.Read(m, where, $"manifests[{i}]")).ToList();
        return new Index(mediaType, manifests) { Annotations = OciJson.ReadAnnotations(root) };
    }

    /// <summary>True when the JSON document looks like an index (has <c>manifests</c>) rather than a manifest; false for anything that is not a JSON object.</summary>
    /// <param name="bytes">The raw document.</param>
    public static bool LooksLikeIndex(ReadOnlySpan<byte> bytes)
    {
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            return false; // Reading it as a manifest reports that, naming the document.
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray());
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return false;
            }

            if (root.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String)
            {
                return MediaTypes.IsIndex(mt.GetString());
            }

            return root.TryGetProperty("manifests", out _);
        }
        catch (JsonException)
        {
            return false; // Not JSON: reading it as a manifest reports that, naming the document.
        }
    }
}
