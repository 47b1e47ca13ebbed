using System.Text.Json;
using System.Text.Json.Nodes;
using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>
/// A cosign signature (or attestation) image: the OCI manifest tagged <c>sha256-&lt;hex&gt;.sig</c> (<c>.att</c>)
/// beside the signed image, whose layers are the signed payloads, each with its signature in the
/// <c>dev.cosignproject.cosign/signature</c> annotation, and whose config is the image config cosign writes (one
/// <c>diff_ids</c> and one <c>history</c> entry a layer, every date the zero time). New signatures are appended to an
/// existing manifest: its layers, annotations and config are kept as they were, byte for byte in meaning.
/// The bytes here are what a registry receives; <see cref="Blobs"/> are the blobs this object holds (the config and
/// the new layers; every layer when <see cref="Appended"/> is false), so OCI layouts and archives can carry it too.
/// </summary>
internal sealed class SignatureArtifact
{
    public const string SimpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json";
    public const string DsseMediaType = "application/vnd.dsse.envelope.v1+json";
    public const string SignatureAnnotation = "dev.cosignproject.cosign/signature";
    public const string PredicateTypeAnnotation = "predicateType";

    /// <summary>cosign refuses more signatures than this on one image; so does ko, and so does it refuse to read more.</summary>
    public const int MaxLayers = 1000;

    /// <summary>The largest config ko reads back from a registry (cosign's grow by about 100 bytes a signature).</summary>
    public const int MaxConfigBytes = 4 << 20;

    private const string ZeroTime = "0001-01-01T00:00:00Z";

    private readonly List<(Descriptor Descriptor, byte[] Bytes)> _newLayers;

    private SignatureArtifact(Digest subject, string suffix, byte[] manifestBytes, byte[] configBytes, List<(Descriptor, byte[])> newLayers, bool appended, int layerCount)
    {
        Subject = subject;
        Tag = TagFor(subject, suffix);
        ManifestBytes = manifestBytes;
        ConfigBytes = configBytes;
        Digest = Digest.Sha256(manifestBytes);
        ConfigDescriptor = new Descriptor(MediaTypes.OciConfig, Digest.Sha256(configBytes), configBytes.Length);
        _newLayers = newLayers;
        Appended = appended;
        LayerCount = layerCount;
    }

    /// <summary>The digest of the signed manifest or index.</summary>
    public Digest Subject { get; }

    /// <summary>The tag: <c>sha256-&lt;hex&gt;.sig</c> or <c>.att</c>.</summary>
    public string Tag { get; }

    /// <summary>The manifest bytes (an OCI image manifest); hash exactly these.</summary>
    public byte[] ManifestBytes { get; }

    /// <summary>The manifest digest.</summary>
    public Digest Digest { get; }

    /// <summary>The config bytes.</summary>
    public byte[] ConfigBytes { get; }

    /// <summary>The config descriptor.</summary>
    public Descriptor ConfigDescriptor { get; }

    /// <summary>True when the layers were appended to a manifest that was already there.</summary>
    public bool Appended { get; }

    /// <summary>How many layers (signatures) the manifest has.</summary>
    public int LayerCount { get; }

    /// <summary>The descriptor of the manifest, for an index (an OCI layout's <c>index.json</c>).</summary>
    public Descriptor Descriptor => new(MediaTypes.OciManifest, Digest, ManifestBytes.Length);

    /// <summary>The tag for a subject: <c>ALG-HEX.SUFFIX</c>, as cosign names it.</summary>
    public static string TagFor(Digest subject, string suffix) => $"{subject.Algorithm}-{subject.Hex}.{suffix}";

    /// <summary>The layers this object added (descriptor with annotations, and bytes).</summary>
    public IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> NewLayers => _newLayers;

    /// <summary>The suffix of <see cref="Tag"/>: <c>sig</c> or <c>att</c>.</summary>
    public string Suffix => Tag[(Tag.LastIndexOf('.') + 1)..];

    /// <summary>The config blob and the layers this object holds the bytes of.</summary>
    public IEnumerable<(Digest Digest, long Size, Func<CancellationToken, ValueTask<Stream>> Open)> Blobs()
    {
        var config = ConfigBytes;
        yield return (ConfigDescriptor.Digest, config.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(config, false)));
        foreach (var (descriptor, bytes) in _newLayers)
        {
            yield return (descriptor.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes, false)));
        }
    }

    /// <summary>
    /// A signature manifest: <paramref name="existing"/> (its manifest and config bytes, as the registry holds them)
    /// with <paramref name="layers"/> appended, or a new one with only those layers. An existing manifest that is not
    /// the shape cosign writes is a <see cref="FormatException"/> saying why.
    /// </summary>
    public static SignatureArtifact Create(Digest subject, string suffix, (byte[] Manifest, byte[] Config)? existing, IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> layers)
    {
        JsonObject manifest, config;
        if (existing is { } e)
        {
            manifest = ParseManifest(e.Manifest);
            config = ParseObject(e.Config, "the signature config");
        }
        else
        {
            manifest = new JsonObject
            {
                ["schemaVersion"] = 2,
                ["mediaType"] = MediaTypes.OciManifest,
                ["config"] = new JsonObject(),
                ["layers"] = new JsonArray(),
            };
            config = new JsonObject
            {
                ["architecture"] = string.Empty,
                ["created"] = ZeroTime,
                ["history"] = new JsonArray(),
                ["os"] = string.Empty,
                ["rootfs"] = new JsonObject { ["type"] = "layers", ["diff_ids"] = new JsonArray() },
                ["config"] = new JsonObject(),
            };
        }

        var layerArray = manifest["layers"]!.AsArray();
        if (layerArray.Count + layers.Count > MaxLayers)
        {
            throw new FormatException($"it would hold {layerArray.Count + layers.Count} signatures, more than the {MaxLayers} cosign allows on one image");
        }

        var rootfs = config["rootfs"] as JsonObject ?? throw new FormatException("the signature config has no rootfs object");
        var diffIds = rootfs["diff_ids"] as JsonArray ?? throw new FormatException("the signature config has no rootfs.diff_ids list");
        if (config["history"] is not JsonArray history)
        {
            config["history"] = history = [];
        }

        foreach (var (descriptor, _) in layers)
        {
            layerArray.Add(JsonNode.Parse(OciJson.Write(descriptor.WriteTo)));
            diffIds.Add((JsonNode)JsonValue.Create(descriptor.Digest.ToString()));
            history.Add((JsonNode)new JsonObject { ["created"] = ZeroTime });
        }

        var configBytes = OciJson.Serialize(config);
        manifest["config"] = JsonNode.Parse(OciJson.Write(new Descriptor(MediaTypes.OciConfig, Digest.Sha256(configBytes), configBytes.Length).WriteTo));
        return new SignatureArtifact(subject, suffix, OciJson.Serialize(manifest), configBytes, [.. layers], existing is not null, layerArray.Count);
    }

    /// <summary>The layers of a signature manifest read from a registry (hostile input), each with its annotations.</summary>
    public static IReadOnlyList<Descriptor> ReadLayers(byte[] manifestBytes)
    {
        var manifest = ParseManifest(manifestBytes);
        var layers = new List<Descriptor>();
        try
        {
            using var doc = JsonDocument.Parse(manifest["layers"]!.ToJsonString());
            foreach (var layer in doc.RootElement.EnumerateArray())
            {
                layers.Add(Descriptor.Read(layer, "the signature manifest", $"layers[{layers.Count}]"));
            }
        }
        catch (JsonException ex)
        {
            throw new FormatException($"its layers are not JSON descriptors ({ex.Message})", ex);
        }

        return layers;
    }

    private static JsonObject ParseManifest(byte[] bytes)
    {
        var manifest = ParseObject(bytes, "the signature manifest");
        if (manifest["mediaType"] is JsonValue mt && mt.TryGetValue<string>(out var mediaType) && mediaType != MediaTypes.OciManifest)
        {
            throw new FormatException($"the signature manifest is a '{SigningKey.Printable(mediaType)}', not an OCI image manifest");
        }

        if (manifest["layers"] is not JsonArray layers)
        {
            throw new FormatException("the signature manifest has no layers list");
        }

        if (layers.Count > MaxLayers)
        {
            throw new FormatException($"the signature manifest has {layers.Count} layers, more than the {MaxLayers} cosign allows");
        }

        return manifest;
    }

    private static JsonObject ParseObject(byte[] bytes, string what)
    {
        try
        {
            return JsonNode.Parse(bytes, documentOptions: Util.JsonStrict.Options(32)) as JsonObject
                ?? throw new FormatException($"{what} is not a JSON object");
        }
        catch (JsonException ex)
        {
            throw new FormatException($"{what} is not JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1})", ex);
        }
    }
}
