using System.Text;
using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>
/// A DSSE envelope (the in-toto attestation wrapper cosign attaches): <c>payloadType</c>, the base64 <c>payload</c> and
/// <c>signatures[].sig</c>, each an ECDSA/SHA-256 signature over the pre-authentication encoding
/// <c>DSSEv1 LEN(type) type LEN(body) body</c>.
/// </summary>
/// <param name="PayloadType">The payload's type, <c>application/vnd.in-toto+json</c> for attestations.</param>
/// <param name="Payload">The payload bytes (an in-toto statement).</param>
/// <param name="Signatures">The signatures, DER bytes.</param>
internal sealed record DsseEnvelope(string PayloadType, byte[] Payload, IReadOnlyList<byte[]> Signatures)
{
    public const string InTotoPayloadType = "application/vnd.in-toto+json";

    /// <summary>The pre-authentication encoding the signatures cover.</summary>
    public static byte[] Pae(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var head = Encoding.ASCII.GetBytes($"DSSEv1 {type.Length} ");
        var middle = Encoding.ASCII.GetBytes($" {payload.Length} ");
        return [.. head, .. type, .. middle, .. payload];
    }

    /// <summary>An envelope of <paramref name="payload"/> signed with <paramref name="key"/>.</summary>
    public static DsseEnvelope Sign(string payloadType, byte[] payload, SigningKey key) =>
        new(payloadType, payload, [key.Sign(Pae(payloadType, payload))]);

    /// <summary>True when any signature verifies with <paramref name="key"/>.</summary>
    public bool VerifiedBy(VerificationKey key)
    {
        var pae = Pae(PayloadType, Payload);
        return Signatures.Any(s => key.Verify(pae, s));
    }

    /// <summary>The envelope as cosign writes it (<c>keyid</c> empty).</summary>
    public byte[] ToBytes() => OciJson.Write(w =>
    {
        w.WriteStartObject();
        w.WriteString("payloadType", PayloadType);
        w.WriteString("payload", Convert.ToBase64String(Payload));
        w.WriteStartArray("signatures");
        foreach (var signature in Signatures)
        {
            w.WriteStartObject();
            w.WriteString("keyid", string.Empty);
            w.WriteString("sig", Convert.ToBase64String(signature));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    /// <summary>Reads an envelope from a registry (hostile input); a <see cref="FormatException"/> says what is wrong.</summary>
    public static DsseEnvelope Parse(ReadOnlySpan<byte> bytes)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray(), Util.JsonStrict.Options(8));
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new FormatException("the envelope is not a JSON object");
            }

            var type = root.TryGetProperty("payloadType", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : throw new FormatException("the envelope has no payloadType");
            var payload = root.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.String && p.TryGetBytesFromBase64(out var bytesOut) ? bytesOut : throw new FormatException("the envelope has no base64 payload");
            var signatures = new List<byte[]>();
            if (root.TryGetProperty("signatures", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in list.EnumerateArray().Take(100))
                {
                    if (s.ValueKind == JsonValueKind.Object && s.TryGetProperty("sig", out var sig) && sig.ValueKind == JsonValueKind.String && sig.TryGetBytesFromBase64(out var der))
                    {
                        signatures.Add(der);
                    }
                }
            }

            return new DsseEnvelope(type, payload, signatures);
        }
        catch (JsonException ex)
        {
            throw new FormatException($"the envelope is not JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})", ex);
        }
    }
}
