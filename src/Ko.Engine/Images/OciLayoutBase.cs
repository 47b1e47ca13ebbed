using System.Text.Json;
using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>
/// A base image read from an OCI image layout on disk: <c>oci:DIR</c> (the layout must then hold exactly one
/// manifest or index) or <c>oci:DIR:TAG</c> (the entry whose <c>org.opencontainers.image.ref.name</c> is TAG).
/// An index there is matched by os/arch/variant.
/// </summary>
internal sealed class OciLayoutBase : BaseImage
{
    private readonly string _dir;
    private readonly Descriptor _root;
    private readonly Oci.Index? _index;
    private readonly IImage? _single;

    private OciLayoutBase(string name, string dir, Descriptor root, Oci.Index? index, IImage? single)
    {
        Name = name;
        _dir = dir;
        _root = root;
        _index = index;
        _single = single;
    }

    public override string Name { get; }

    public override IReadOnlyList<Platform> Platforms => _index is not null
        ? _index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown" && MediaTypes.IsManifest(m.MediaType)).Select(m => m.Platform!).ToList()
        : [_single!.Platform];

    public override bool IsMultiPlatform => _index is not null;

    public override string IndexMediaType => _index?.MediaType ?? MediaTypes.OciIndex;

    public override Digest? IndexDigest => _index is not null ? _root.Digest : null;

    /// <summary>Parses <c>oci:DIR[:TAG]</c> and reads the layout.</summary>
    public static async Task<OciLayoutBase> OpenAsync(string spec, string workingDirectory, CancellationToken cancellationToken)
    {
        var rest = spec["oci:".Length..];
        string? tag = null;
        // As skopeo reads oci:PATH:REF, the path ends at the first colon and the rest is the reference name,
        // which may itself hold colons and slashes (ko.local/app:latest).
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        if (string.IsNullOrWhiteSpace(rest) || tag is { Length: 0 })
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}' is malformed: write oci:DIR or oci:DIR:TAG, where DIR is an OCI image layout.");
        }

        var dir = Path.GetFullPath(rest, workingDirectory);
        if (!File.Exists(Path.Combine(dir, "oci-layout")) || !File.Exists(Path.Combine(dir, "index.json")))
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}': {dir} is not an OCI image layout (it needs an 'oci-layout' file and an 'index.json'). Create one with `skopeo copy ... oci:{rest}` or `dotnet ko build --oci-layout-path`.");
        }

        try
        {
            var indexBytes = await Util.BoundedFile.ReadAsync(Path.Combine(dir, "index.json"), MaxIndexBytes, cancellationToken).ConfigureAwait(false);
            var top = Oci.Index.Parse(indexBytes, Path.Combine(dir, "index.json"));
            var candidates = tag is null
                ? top.Manifests
                : top.Manifests.Where(m => m.Annotations is not null && m.Annotations.TryGetValue(AnnotationKeys.RefName, out var r) && r == tag).ToList();
            if (candidates.Count == 0)
            {
                var names = top.Manifests.Select(m => m.Annotations?.GetValueOrDefault(AnnotationKeys.RefName)).Where(n => n is not null);
                throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}': no entry in {dir}/index.json is named '{tag}' (names there: {string.Join(", ", names.DefaultIfEmpty("none"))}).");
            }

            if (candidates.Count > 1)
            {
                throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}': {dir}/index.json holds {candidates.Count} entries; name one with oci:{rest}:TAG.");
            }

            var root = candidates[0];
            var rootBytes = await ReadBlobAsync(dir, root, cancellationToken).ConfigureAwait(false);
            if (MediaTypes.IsIndex(root.MediaType) || (!MediaTypes.IsManifest(root.MediaType) && Oci.Index.LooksLikeIndex(rootBytes)))
            {
                var index = Oci.Index.Parse(rootBytes, $"{spec} (index {root.Digest})");
                RegistryBase.RefuseNestedEntries(index, $"'{spec}'", KoErrorCodes.InvalidBaseImage);
                return new OciLayoutBase(spec, dir, root, index, null);
            }

            var image = await LoadImageAsync(dir, rootBytes, spec, cancellationToken).ConfigureAwait(false);
            return new OciLayoutBase(spec, dir, root, null, image);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}' is not a valid OCI layout: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image '{spec}': the OCI layout {dir} cannot be read: {Util.SystemMessage.Of(ex)} Check its files and permissions.", ex);
        }
    }

    /// <summary>The largest index.json read from a layout (an index of tens of thousands of entries).</summary>
    internal const long MaxIndexBytes = 64L << 20;

    public override IReadOnlyDictionary<string, string>? IndexEntryAnnotations(Platform platform) =>
        _index?.Manifests.FirstOrDefault(m => m.Platform == platform && MediaTypes.IsManifest(m.MediaType))?.Annotations;

    public override async Task<IImage> GetImageAsync(Platform platform, CancellationToken cancellationToken)
    {
        if (_single is not null)
        {
            return _single;
        }

        var entry = _index!.Manifests.FirstOrDefault(m => m.Platform == platform && MediaTypes.IsManifest(m.MediaType))
            ?? throw new KoException(KoErrorCodes.InvalidPlatform, $"the base image {Name} has no {platform} image.");
        try
        {
            var bytes = await ReadBlobAsync(_dir, entry, cancellationToken).ConfigureAwait(false);
            return await LoadImageAsync(_dir, bytes, $"{Name} ({platform})", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{Name}' is not a valid OCI layout: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image '{Name}': the OCI layout {_dir} cannot be read: {Util.SystemMessage.Of(ex)} Check its files and permissions.", ex);
        }
    }

    private static async Task<IImage> LoadImageAsync(string dir, byte[] manifestBytes, string where, CancellationToken cancellationToken)
    {
        var manifest = Manifest.Parse(manifestBytes, where);
        var config = await ReadBlobAsync(dir, manifest.Config, cancellationToken).ConfigureAwait(false);
        var diffIds = ImageConfig.ReadDiffIds(config, where);
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new FormatException($"{where}: the config lists {diffIds.Count} diff_ids but the manifest has {manifest.Layers.Count} layers.");
        }

        var layers = new List<ILayer>();
        for (var i = 0; i < manifest.Layers.Count; i++)
        {
            var d = manifest.Layers[i];
            var path = BlobPath(dir, d.Digest);
            var info = new FileInfo(path);
            if (!info.Exists)
            {
                throw new FormatException($"{where}: layer blob {d.Digest} is missing from {dir}/blobs.");
            }

            if (info.Length != d.Size)
            {
                throw new FormatException($"{where}: layer blob {d.Digest} is {info.Length} bytes, the manifest says {d.Size}.");
            }

            // Asked without opening it: a FIFO would block the copy, a device would never end.
            var kind = Util.UnixFileStatus.KindOf(path, followLinks: true);
            if (kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
            {
                throw new FormatException($"{where}: layer blob {d.Digest} ({path}) is {Util.UnixFileStatus.Describe(kind)}, not a regular file.");
            }

            layers.Add(new LayoutBlobLayer(d, diffIds[i], path, dir));
        }

        return new Image(manifestBytes, config, layers, where);
    }

    private static string BlobPath(string dir, Digest digest) => Path.Combine(dir, "blobs", digest.Algorithm, digest.Hex);

    private static async Task<byte[]> ReadBlobAsync(string dir, Descriptor descriptor, CancellationToken cancellationToken)
    {
        var path = BlobPath(dir, descriptor.Digest);
        if (!File.Exists(path))
        {
            throw new FormatException($"blob {descriptor.Digest} is missing from {dir}/blobs.");
        }

        if (descriptor.Size > 16 << 20)
        {
            throw new FormatException($"blob {descriptor.Digest} claims {descriptor.Size} bytes, too large for a manifest or config.");
        }

        // Read no more than the descriptor names: the file itself is not trusted (it may be a FIFO, a device, huge).
        var bytes = await Util.BoundedFile.ReadAsync(path, descriptor.Size, cancellationToken).ConfigureAwait(false);
        if (Digest.Sha256(bytes) != descriptor.Digest)
        {
            throw new FormatException($"blob {descriptor.Digest} in {dir}/blobs does not match its digest.");
        }

        return bytes;
    }
}
