using System.Text.Json.Nodes;
using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>What the assembler changes in the base's config and manifest, as ko does, plus the settings ko lacks.</summary>
internal sealed record AppImageSpec
{
    /// <summary>The import path (for history entries).</summary>
    public required string ImportPath { get; init; }

    /// <summary>The binary's path in the image, e.g. <c>/ko-app/hello</c>.</summary>
    public required string AppPath { get; init; }

    /// <summary>The image's <c>created</c> time; null keeps the base's.</summary>
    public DateTimeOffset? Created { get; init; }

    /// <summary>The time recorded in the kodata layer's history entry.</summary>
    public DateTimeOffset? KodataCreated { get; init; }

    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();

    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    public string? User { get; init; }
}

/// <summary>
/// Derives an application image from a base image plus the kodata and binary layers, without copying any layer:
/// the config is edited (entrypoint, PATH, KO_DATA_PATH, labels, user, created, history, diff_ids) and re-serialised,
/// the manifest written, and both hashed exactly as they will be stored. Media types follow the base.
/// </summary>
internal static class ImageAssembler
{
    /// <summary>The config <c>author</c> ko writes.</summary>
    public const string KoAuthor = "github.com/ko-build/ko";

    /// <summary>How Go writes its zero time, which ko leaves in history entries when no epoch is set.</summary>
    public const string GoZeroTime = "0001-01-01T00:00:00Z";

    // Fields in the order go-containerregistry's v1.History declares them (author, created, created_by, comment).
    private static JsonObject HistoryEntry(DateTimeOffset? created, string importPath, string comment) => new()
    {
        ["author"] = "ko",
        ["created"] = created is { } c ? ImageConfig.FormatTime(c) : GoZeroTime,
        ["created_by"] = "ko build ko://" + importPath,
        ["comment"] = comment,
    };

    public static IImage Assemble(IImage baseImage, string baseName, ILayer kodata, ILayer binary, AppImageSpec spec)
    {
        var docker = MediaTypes.IsDocker(baseImage.Manifest.MediaType);
        var zstd = binary.Descriptor.MediaType == MediaTypes.OciLayerZstd;
        if (zstd && docker)
        {
            throw new KoException(KoErrorCodes.ZstdNeedsOciBase, $"the base image {baseName} has a Docker manifest, which cannot carry zstd layers: use an OCI base image or --compression gzip.");
        }

        var layerMediaType = zstd ? MediaTypes.OciLayerZstd : docker ? MediaTypes.DockerLayerGzip : MediaTypes.OciLayerGzip;
        var config = ImageConfig.ParseObject(baseImage.ConfigBytes.Span, baseName);

        if (spec.Created is { } created)
        {
            config["created"] = ImageConfig.FormatTime(created);
        }

        var inner = ImageConfig.ChildObject(config, "config");
        inner["Entrypoint"] = new JsonArray(spec.AppPath);
        inner.Remove("Cmd");
        var env = ImageConfig.ChildArray(inner, "Env");
        ImageConfig.AppendToPath(env, AppLayers.AppDirectory);
        env.Add((JsonNode)JsonValue.Create("KO_DATA_PATH=" + AppLayers.KodataRoot));
        if (spec.Labels.Count > 0)
        {
            var labels = ImageConfig.ChildObject(inner, "Labels");
            foreach (var (k, v) in spec.Labels.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                labels[k] = v;
            }
        }

        if (!string.IsNullOrEmpty(spec.User))
        {
            inner["User"] = spec.User;
        }

        var rootfs = ImageConfig.ChildObject(config, "rootfs");
        rootfs["type"] = "layers";
        var diffIds = ImageConfig.ChildArray(rootfs, "diff_ids");
        diffIds.Add((JsonNode)JsonValue.Create(kodata.DiffId.ToString()));
        diffIds.Add((JsonNode)JsonValue.Create(binary.DiffId.ToString()));

        // As ko (pkg/build/gobuild.go with go-containerregistry's mutate.Append): both layers always get a history
        // entry by author "ko", dated by KO_DATA_DATE_EPOCH and SOURCE_DATE_EPOCH (Go's zero time when unset), and
        // the config's author is ko's.
        config["author"] = KoAuthor;
        var history = ImageConfig.ChildArray(config, "history");
        history.Add((JsonNode)HistoryEntry(spec.KodataCreated, spec.ImportPath, "kodata contents, at $KO_DATA_PATH"));
        history.Add((JsonNode)HistoryEntry(spec.Created, spec.ImportPath, "go build output, at " + spec.AppPath));

        // As ko: the config round-trips through go-containerregistry's v1.ConfigFile and Go's encoding/json.
        var configBytes = GoConfigJson.Serialize(config);
        var layers = baseImage.Layers.Concat([kodata, binary]).ToList();
        var descriptors = baseImage.Manifest.Layers
            .Concat([kodata.Descriptor with { MediaType = layerMediaType }, binary.Descriptor with { MediaType = layerMediaType }])
            .ToList();

        Dictionary<string, string>? annotations = null;
        if (!docker)
        {
            annotations = new Dictionary<string, string>(baseImage.Manifest.Annotations ?? new Dictionary<string, string>(), StringComparer.Ordinal)
            {
                [AnnotationKeys.BaseName] = baseName,
                [AnnotationKeys.BaseDigest] = baseImage.Digest.ToString(),
            };
            foreach (var (k, v) in spec.Annotations)
            {
                annotations[k] = v;
            }
        }

        var manifest = new Manifest(
            baseImage.Manifest.MediaType,
            new Descriptor(docker ? MediaTypes.DockerConfig : MediaTypes.OciConfig, Digest.Sha256(configBytes), configBytes.Length),
            descriptors)
        {
            Annotations = annotations,
        };
        return new Image(manifest.ToBytes(), configBytes, layers, spec.ImportPath);
    }

    /// <summary>Builds an index over platform images, in the order given, with the base's index media type.</summary>
    public static IImageIndex AssembleIndex(IReadOnlyList<IImage> images, BaseImage baseImage, IReadOnlyDictionary<string, string> annotations)
    {
        var docker = MediaTypes.IsDocker(baseImage.IndexMediaType);
        // ko keeps each base index entry's annotations on the entry that replaces it (pkg/build/gobuild.go buildAll).
        var manifests = images.Select(i => new Descriptor(i.Manifest.MediaType, i.Digest, i.ManifestBytes.Length)
        {
            Platform = i.Platform,
            Annotations = baseImage.IndexEntryAnnotations(i.Platform),
        }).ToList();
        Dictionary<string, string>? indexAnnotations = null;
        if (!docker)
        {
            indexAnnotations = new Dictionary<string, string>(StringComparer.Ordinal) { [AnnotationKeys.BaseName] = baseImage.Name };
            if (baseImage.IndexDigest is { } d)
            {
                indexAnnotations[AnnotationKeys.BaseDigest] = d.ToString();
            }

            foreach (var (k, v) in annotations)
            {
                indexAnnotations[k] = v;
            }
        }

        var index = new Oci.Index(docker ? MediaTypes.DockerManifestList : MediaTypes.OciIndex, manifests) { Annotations = indexAnnotations };
        return new ImageIndex(index.ToBytes(), images);
    }
}
