using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>
/// The "simple signing" payload cosign signs and containers/image verifies: <c>critical.identity.docker-reference</c>
/// (the repository), <c>critical.image.docker-manifest-digest</c>, <c>critical.type</c> = <c>cosign container image
/// signature</c>, and <c>optional</c> (the annotations, or <c>null</c> as cosign writes when there are none).
/// </summary>
/// <param name="DockerReference">The repository the signature vouches for, e.g. <c>registry.example/team/app</c>.</param>
/// <param name="ManifestDigest">The digest of the signed manifest or index.</param>
/// <param name="Optional">The <c>optional</c> annotations (string values only; others are kept as raw JSON text).</param>
internal sealed record SimpleSigningPayload(string DockerReference, Digest ManifestDigest, IReadOnlyDictionary<string, string> Optional)
{
    public const string SignatureType = "cosign container image signature";

    /// <summary>A payload this large is not a simple-signing payload (cosign's are a few hundred bytes).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>The payload bytes: fixed key order, annotations sorted, so the same inputs give the same bytes.</summary>
    public byte[] ToBytes() => OciJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteStartObject("critical");
        w.WriteStartObject("identity");
        w.WriteString("docker-reference", DockerReference);
        w.WriteEndObject();
        w.WriteStartObject("image");
        w.WriteString("docker-manifest-digest", ManifestDigest.ToString());
        w.WriteEndObject();
        w.WriteString("type", SignatureType);
        w.WriteEndObject();
        if (Optional.Count == 0)
        {
            w.WriteNull("optional");
        }
        else
        {
            OciJson.WriteAnnotations(w, Optional, "optional");
        }

        w.WriteEndObject();
    });

    /// <summary>
    /// Reads a payload from a registry (hostile input): a <see cref="FormatException"/> says what is wrong when it is
    /// not a simple-signing payload of the cosign type. Unknown keys in <c>critical</c> are refused, as containers/image does.
    /// </summary>
    public static SimpleSigningPayload Parse(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length > MaxBytes)
        {
            throw new FormatException($"the payload is {bytes.Length} bytes, more than {MaxBytes}");
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 16 });
            var root = Object(doc.RootElement, "the payload");
            var critical = Object(Get(root, "critical"), "critical");
            foreach (var property in critical.EnumerateObject())
            {
                if (property.Name is not ("identity" or "image" or "type"))
                {
                    throw new FormatException($"critical has an unknown key '{SigningKey.Printable(property.Name)}'");
                }
            }

            var type = String(Get(critical, "type"), "critical.type");
            if (type != SignatureType)
            {
                throw new FormatException($"critical.type is '{SigningKey.Printable(type)}', not '{SignatureType}'");
            }

            var reference = String(Get(Object(Get(critical, "identity"), "critical.identity"), "docker-reference"), "critical.identity.docker-reference");
            var digestText = String(Get(Object(Get(critical, "image"), "critical.image"), "docker-manifest-digest"), "critical.image.docker-manifest-digest");
            if (!Digest.TryParse(digestText, out var digest))
            {
                throw new FormatException("critical.image.docker-manifest-digest is not a digest");
            }

            var optional = new SortedDictionary<string, string>(StringComparer.Ordinal);
            if (root.TryGetProperty("optional", out var o) && o.ValueKind != JsonValueKind.Null)
            {
                foreach (var property in Object(o, "optional").EnumerateObject())
                {
                    optional[property.Name] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
            }

            return new SimpleSigningPayload(reference, digest, optional);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the payload is not JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})", ex);
        }
    }

    private static JsonElement Get(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) ? value : throw new FormatException($"it has no '{name}'");

    private static JsonElement Object(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.Object ? element : throw new FormatException($"{what} is not a JSON object");

    private static string String(JsonElement element, string what) =>
        element.ValueKind == JsonValueKind.String ? element.GetString()! : throw new FormatException($"{what} is not a string");
}
