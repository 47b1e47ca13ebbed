using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

using Ko.Engine.Images;

/// <summary>
/// A base image read from an OCI image layout on disk: <c>oci:DIR</c> (the layout must then hold exactly one
/// manifest or index) or <c>oci:DIR:TAG</c> (the entry whose <c>org.opencontainers.image.ref.name</c> is TAG).
/// An index there is matched by os/arch/variant.
/// </summary>
internal sealed class OciLayoutBase : BaseImage
{
    private readonly Sources.DirectoryFiles _files;
    private readonly Descriptor _root;
    private readonly Oci.Index? _index;
    private readonly IImage? _single;

    private OciLayoutBase(string name, Sources.DirectoryFiles files, Descriptor root, Oci.Index? index, IImage? single)
    {
        Name = name;
        _files = files;
        _root = root;
        _index = index;
        _single = single;
    }

    public override string Name { get; }

    public override IReadOnlyList<Platform> Platforms => _index is not null
        ? _index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown" && MediaTypes.IsManifest(m.MediaType)).Select(m => m.Platform!).ToList()
        : [_single!.Platform];

    public override bool IsMultiPlatform => _index is not null;

    public override IReadOnlyList<Digest> EntriesWithoutPlatform =>
        _index?.Manifests.Where(m => m.Platform is null && MediaTypes.IsManifest(m.MediaType)).Select(m => m.Digest).ToList() ?? [];

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

        var files = new Sources.DirectoryFiles(dir);
        try
        {
            var top = await Sources.OciLayoutReader.ReadTopIndexAsync(files, cancellationToken).ConfigureAwait(false);
            var candidates = Sources.OciLayoutReader.Candidates(top, tag);
            if (candidates.Count == 0)
            {
                throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}': no entry in {dir}/index.json is named '{tag}' (names there: {Sources.OciLayoutReader.NamesIn(top)}).");
            }

            if (candidates.Count > 1)
            {
                throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}': {dir}/index.json holds {candidates.Count} entries; name one with oci:{rest}:TAG.");
            }

            var root = candidates[0];
            var rootBytes = await Sources.OciLayoutReader.ReadBlobAsync(files, root, cancellationToken).ConfigureAwait(false);
            if (Sources.OciLayoutReader.IsIndex(root, rootBytes))
            {
                var index = Oci.Index.Parse(rootBytes, $"{spec} (index {root.Digest})");
                RegistryBase.RefuseNestedEntries(index, $"'{spec}'", KoErrorCodes.InvalidBaseImage);
                return new OciLayoutBase(spec, files, root, index, null);
            }

            var image = await Sources.OciLayoutReader.LoadImageAsync(files, rootBytes, spec, cancellationToken, KoErrorCodes.BaseImageUnreadable).ConfigureAwait(false);
            return new OciLayoutBase(spec, files, root, null, image);
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
    internal const long MaxIndexBytes = Sources.OciLayoutReader.MaxIndexBytes;

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
            var bytes = await Sources.OciLayoutReader.ReadBlobAsync(_files, entry, cancellationToken).ConfigureAwait(false);
            return await Sources.OciLayoutReader.LoadImageAsync(_files, bytes, $"{Name} ({platform})", cancellationToken, KoErrorCodes.BaseImageUnreadable).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{Name}' is not a valid OCI layout: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image '{Name}': the OCI layout {_files.Directory} cannot be read: {Util.SystemMessage.Of(ex)} Check its files and permissions.", ex);
        }
    }
}
