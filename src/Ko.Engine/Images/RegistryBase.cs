using System.Text.Json;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Images;

/// <summary>
/// A base image in a registry, named by tag or digest. An index is matched by os/arch/variant (attestation entries,
/// <c>unknown/unknown</c>, are skipped); a single manifest offers the platform its config declares. Manifests and
/// configs are cached in the content store by digest: a digest reference never goes to the network twice, a tag
/// costs one HEAD when its manifest is cached. Layers are <see cref="RemoteLayer"/>s, never downloaded here.
/// </summary>
internal sealed class RegistryBase : BaseImage
{
    private const int MaxConfigBytes = 16 << 20;

    private readonly ImageReference _reference;
    private readonly RegistryClient _client;
    private readonly ContentStore _store;
    private readonly ILogger _logger;
    private readonly Digest _rootDigest;
    private readonly Oci.Index? _index;
    private readonly IImage? _single;

    private RegistryBase(ImageReference reference, RegistryClient client, ContentStore store, ILogger logger, Digest rootDigest, Oci.Index? index, IImage? single)
    {
        _reference = reference;
        _client = client;
        _store = store;
        _logger = logger;
        _rootDigest = rootDigest;
        _index = index;
        _single = single;
    }

    public override string Name => _reference.ToString();

    /// <summary>The reference this base was read from.</summary>
    public ImageReference Reference => _reference;

    /// <summary>The digest of the manifest or index the reference resolved to.</summary>
    public Digest Digest => _rootDigest;

    public override IReadOnlyList<Platform> Platforms => _index is not null
        ? Entries(_index).Select(m => m.Platform!).Distinct().ToList()
        : [_single!.Platform];

    public override bool IsMultiPlatform => _index is not null;

    public override IReadOnlyList<Digest> EntriesWithoutPlatform =>
        _index?.Manifests.Where(m => m.Platform is null && MediaTypes.IsManifest(m.MediaType)).Select(m => m.Digest).ToList() ?? [];

    public override string IndexMediaType => _index?.MediaType ?? MediaTypes.OciIndex;

    public override Digest? IndexDigest => _index is not null ? _rootDigest : null;

    /// <summary>Resolves the reference (one HEAD for a tag, nothing for a cached digest) and reads its manifest or index.</summary>
    /// <summary>Closes the base's registry client: called when the build that read it is over.</summary>
    public override void Dispose() => _client.Dispose();

    public static async Task<RegistryBase> OpenAsync(ImageReference reference, RegistryClient client, ContentStore store, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(client);
        try
        {
            var repository = reference.Repository;
            Digest? digest = reference.Digest;
            byte[]? bytes = null;
            if (digest is null)
            {
                digest = await client.ManifestDigestAsync(repository, reference.ManifestReference, KoErrorCodes.BaseImageUnreadable, cancellationToken).ConfigureAwait(false);
                if (digest is null)
                {
                    // Missing, or a registry that does not say the digest on HEAD: the GET tells which.
                    var got = await client.GetManifestAsync(repository, reference.ManifestReference, cancellationToken).ConfigureAwait(false);
                    digest = got.Digest;
                    bytes = got.Bytes;
                    await store.PutAsync(bytes, got.Digest, cancellationToken).ConfigureAwait(false);
                }
            }

            bytes ??= await ManifestAsync(client, store, logger, repository, digest.Value, cancellationToken).ConfigureAwait(false);
            var mediaType = RegistryClient.MediaTypeOf(bytes, reference.ToString());
            if (MediaTypes.IsIndex(mediaType))
            {
                var index = Oci.Index.Parse(bytes, $"{reference} (index {digest})");
                RefuseNestedEntries(index, reference.ToString(), KoErrorCodes.BaseImageUnreadable);
                var result = new RegistryBase(reference, client, store, logger, digest.Value, index, null);
                if (!Entries(index).Any())
                {
                    throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image {reference}: its index {digest} lists no image for any platform.");
                }

                return result;
            }

            if (!MediaTypes.IsManifest(mediaType))
            {
                throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image {reference}: {digest} has media type '{mediaType}', which is neither an image manifest nor an index.");
            }

            var single = await LoadImageAsync(reference, client, store, logger, bytes, reference.ToString(), cancellationToken).ConfigureAwait(false);
            return new RegistryBase(reference, client, store, logger, digest.Value, null, single);
        }
        catch (KoException ex) when (ex.Code == KoErrorCodes.BaseImageUnreadable && !ex.Message.StartsWith("base image ", StringComparison.Ordinal))
        {
            throw new KoException(ex.Code, $"base image {reference} cannot be read: {ex.Message} Check the name, the tag or digest, and that the registry is reachable.", ex);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image {reference} is not a valid image: {ex.Message}", ex);
        }
    }

    public override IReadOnlyDictionary<string, string>? IndexEntryAnnotations(Platform platform) =>
        _index is null ? null : EntryFor(platform)?.Annotations;

    private Descriptor? EntryFor(Platform platform)
    {
        var entries = Entries(_index!).ToList();
        return entries.FirstOrDefault(m => m.Platform == platform) ?? entries.FirstOrDefault(m => platform.Accepts(m.Platform!));
    }

    public override async Task<IImage> GetImageAsync(Platform platform, CancellationToken cancellationToken)
    {
        if (_single is not null)
        {
            return _single;
        }

        var entry = EntryFor(platform)
            ?? throw new KoException(KoErrorCodes.InvalidPlatform, $"the base image {Name} has no {platform} image; it offers {string.Join(", ", Platforms)}.");
        var where = $"{Name} ({platform}, {entry.Digest})";
        try
        {
            var bytes = await ManifestAsync(_client, _store, _logger, _reference.Repository, entry.Digest, cancellationToken).ConfigureAwait(false);
            return await LoadImageAsync(_reference, _client, _store, _logger, bytes, where, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"base image {Name} is not a valid image: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Refuses a base index that lists anything but image manifests (a nested index, an artifact), as ko's buildAll
    /// (pkg/build/gobuild.go) does: which of its images to build on would be a guess.
    /// </summary>
    internal static void RefuseNestedEntries(Oci.Index index, string baseName, string code)
    {
        if (index.Manifests.FirstOrDefault(m => !MediaTypes.IsManifest(m.MediaType)) is { } odd)
        {
            throw new KoException(code, $"base image {baseName}: its index lists {odd.Digest} with media type '{odd.MediaType}', not an image manifest (a nested index is not supported, as in ko). Use the nested index itself, or a single image, as the base.");
        }
    }

    /// <summary>The index entries that are images for a real platform (attestations and nested indexes left out).</summary>
    private static IEnumerable<Descriptor> Entries(Oci.Index index) =>
        index.Manifests.Where(m => m.Platform is not null && m.Platform.Os != "unknown" && m.Platform.Architecture != "unknown" && MediaTypes.IsManifest(m.MediaType));

    private static async Task<IImage> LoadImageAsync(ImageReference reference, RegistryClient client, ContentStore store, ILogger logger, byte[] manifestBytes, string where, CancellationToken cancellationToken)
    {
        var manifest = Manifest.Parse(manifestBytes, where);
        var config = await ConfigAsync(client, store, logger, reference.Repository, manifest.Config, cancellationToken).ConfigureAwait(false);
        var diffIds = ImageConfig.ReadDiffIds(config, where);
        if (diffIds.Count != manifest.Layers.Count)
        {
            throw new FormatException($"{where}: the config lists {diffIds.Count} diff_ids but the manifest has {manifest.Layers.Count} layers.");
        }

        var layers = manifest.Layers
            .Select((d, i) => (ILayer)new RemoteLayer(d, diffIds[i], client, reference.Registry, reference.Repository))
            .ToList();
        return new Image(manifestBytes, config, layers, where);
    }

    /// <summary>A manifest by digest: from the content store when it is there and intact, else from the registry (then stored).</summary>
    private static async Task<byte[]> ManifestAsync(RegistryClient client, ContentStore store, ILogger logger, string repository, Digest digest, CancellationToken cancellationToken)
    {
        var cached = await ReadCachedAsync(store, digest, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            logger.LogDebug("Base manifest {Digest} read from the cache", digest);
            return cached;
        }

        var got = await client.GetManifestAsync(repository, digest.ToString(), cancellationToken).ConfigureAwait(false);
        await store.PutAsync(got.Bytes, got.Digest, cancellationToken).ConfigureAwait(false);
        logger.LogDebug("Base manifest {Digest} fetched from {Host}/{Repository}", digest, client.Host, repository);
        return got.Bytes;
    }

    /// <summary>A config blob by descriptor: from the content store when intact, else streamed from the registry, verified, stored.</summary>
    private static async Task<byte[]> ConfigAsync(RegistryClient client, ContentStore store, ILogger logger, string repository, Descriptor descriptor, CancellationToken cancellationToken)
    {
        var cached = await ReadCachedAsync(store, descriptor.Digest, cancellationToken).ConfigureAwait(false);
        if (cached is not null)
        {
            logger.LogDebug("Base config {Digest} read from the cache", descriptor.Digest);
            return cached;
        }

        var bytes = await client.ReadSmallBlobAsync(repository, descriptor.Digest, descriptor.Size, MaxConfigBytes, cancellationToken).ConfigureAwait(false);
        await store.PutAsync(bytes, descriptor.Digest, cancellationToken).ConfigureAwait(false);
        logger.LogDebug("Base config {Digest} fetched from {Host}/{Repository}", descriptor.Digest, client.Host, repository);
        return bytes;
    }

    /// <summary>The cached bytes of a digest, or null; a cached file whose bytes do not match is deleted.</summary>
    private static async Task<byte[]?> ReadCachedAsync(ContentStore store, Digest digest, CancellationToken cancellationToken)
    {
        var path = store.BlobPath(digest);
        var info = new FileInfo(path);
        if (digest.Algorithm != "sha256" || !info.Exists || info.Length > MaxConfigBytes)
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
            return null;
        }

        if (Digest.Sha256(bytes) == digest)
        {
            return bytes;
        }

        Util.FileSystem.TryDelete(path);
        return null;
    }
}
