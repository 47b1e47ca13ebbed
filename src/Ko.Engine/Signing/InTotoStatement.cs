using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>
/// An in-toto statement (v0.1, as cosign's <c>attest</c> writes): one subject (the repository and the image's sha256),
/// a predicate type and the predicate (for SBOMs the SPDX or CycloneDX document itself).
/// </summary>
internal static class InTotoStatement
{
    public const string StatementType = "https://in-toto.io/Statement/v0.1";
    public const string SpdxPredicate = "https://spdx.dev/Document";
    public const string CycloneDxPredicate = "https://cyclonedx.org/bom";

    /// <summary>The statement bytes; <paramref name="predicate"/> must be one JSON value and is written as it is.</summary>
    public static byte[] Create(string repository, Digest subject, string predicateType, ReadOnlySpan<byte> predicate)
    {
        var raw = predicate.ToArray();
        return OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("_type", StatementType);
            w.WriteString("predicateType", predicateType);
            w.WriteStartArray("subject");
            w.WriteStartObject();
            w.WriteString("name", repository);
            w.WriteStartObject("digest");
            w.WriteString(subject.Algorithm, subject.Hex);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WritePropertyName("predicate");
            w.WriteRawValue(raw, skipInputValidation: false);
            w.WriteEndObject();
        });
    }

    /// <summary>
    /// The predicate type and the subjects' digests of a statement from a registry (hostile input); a
    /// <see cref="FormatException"/> says what is wrong.
    /// </summary>
    public static (string PredicateType, IReadOnlyList<Digest> Subjects) Read(ReadOnlySpan<byte> bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), new JsonDocumentOptions { MaxDepth = 256 });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("_type", out var type) || type.ValueKind != JsonValueKind.String
                || !(type.GetString() ?? string.Empty).StartsWith("https://in-toto.io/Statement/", StringComparison.Ordinal))
            {
                throw new FormatException("the payload is not an in-toto statement (no _type https://in-toto.io/Statement/…)");
            }

            var predicateType = root.TryGetProperty("predicateType", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString()! : throw new FormatException("the statement has no predicateType");
            var subjects = new List<Digest>();
            if (root.TryGetProperty("subject", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in list.EnumerateArray().Take(1000))
                {
                    if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("digest", out var d) && d.ValueKind == JsonValueKind.Object
                        && d.TryGetProperty("sha256", out var hex) && hex.ValueKind == JsonValueKind.String && Digest.TryParse("sha256:" + hex.GetString(), out var digest))
                    {
                        subjects.Add(digest);
                    }
                }
            }

            return (predicateType, subjects);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the statement is not JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})", ex);
        }
    }
}
