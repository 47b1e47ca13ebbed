using System.Text.Json;

namespace Ko.Engine.Oci;

/// <summary>An OCI content descriptor: what a blob or manifest is, where it is and how large it is.</summary>
/// <param name="MediaType">The media type of the referenced content.</param>
/// <param name="Digest">The digest of the referenced content.</param>
/// <param name="Size">The size in bytes of the referenced content.</param>
public sealed record Descriptor(string MediaType, Digest Digest, long Size)
{
    /// <summary>The platform of an index entry, if any.</summary>
    public Platform? Platform { get; init; }

    /// <summary>Annotations, written with keys in ordinal order.</summary>
    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    /// <summary>The artifact type, for artifacts.</summary>
    public string? ArtifactType { get; init; }

    internal void WriteTo(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("mediaType", MediaType);
        if (ArtifactType is not null)
        {
            writer.WriteString("artifactType", ArtifactType);
        }

        writer.WriteNumber("size", Size);
        writer.WriteString("digest", Digest.ToString());
        OciJson.WriteAnnotations(writer, Annotations);
        if (Platform is not null)
        {
            writer.WriteStartObject("platform");
            writer.WriteString("architecture", Platform.Architecture);
            writer.WriteString("os", Platform.Os);
            if (Platform.OsVersion is not null)
            {
                writer.WriteString("os.version", Platform.OsVersion);
            }

            if (Platform.Variant is not null)
            {
                writer.WriteString("variant", Platform.Variant);
            }

            writer.WriteEndObject();
        }

        writer.WriteEndObject();
    }

    internal static Descriptor Read(JsonElement element, string where, string field = "descriptor")
    {
        OciJson.Object(element, field, where);
        var mediaType = OciJson.RequiredString(element, "mediaType", where);
        var digestText = OciJson.RequiredString(element, "digest", where);
        if (!Digest.TryParse(digestText, out var digest))
        {
            throw new FormatException($"{where}: '{digestText}' is not a valid digest.");
        }

        if (!element.TryGetProperty("size", out var sizeElement) || sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var size) || size < 0)
        {
            throw new FormatException($"{where}: {field} has no valid 'size' (a whole number of bytes).");
        }

        Platform? platform = null;
        if (element.TryGetProperty("platform", out var p) && p.ValueKind != JsonValueKind.Null)
        {
            OciJson.Object(p, field + ".platform", where);
            var os = OciJson.OptionalString(p, "os", where, field + ".platform.os");
            var arch = OciJson.OptionalString(p, "architecture", where, field + ".platform.architecture");
            var variant = OciJson.OptionalString(p, "variant", where, field + ".platform.variant");
            var osVersion = OciJson.OptionalString(p, "os.version", where, field + ".platform.os.version");
            if (os is not null && arch is not null)
            {
                platform = new Platform(os, arch, string.IsNullOrEmpty(variant) ? null : variant) { OsVersion = string.IsNullOrEmpty(osVersion) ? null : osVersion };
            }
        }

        return new Descriptor(mediaType, digest, size)
        {
            Platform = platform,
            Annotations = OciJson.ReadAnnotations(element),
            ArtifactType = OciJson.OptionalString(element, "artifactType", where, field + ".artifactType"),
        };
    }
}
