using System.Collections.Concurrent;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Sinks;

/// <summary>What a push did: blobs uploaded, blobs the registry already had, and blobs mounted from another repository of it.</summary>
internal readonly record struct PushOutcome(int BlobsUploaded, int BlobsSkipped, int BlobsMounted = 0)
{
    public static PushOutcome operator +(PushOutcome a, PushOutcome b) =>
        new(a.BlobsUploaded + b.BlobsUploaded, a.BlobsSkipped + b.BlobsSkipped, a.BlobsMounted + b.BlobsMounted);
}

/// <summary>
/// Pushes built images to their registry: every layer and config blob the registry lacks (HEAD first, up to four
/// at a time; a base layer from another repository of the same registry is mounted from there, and only when the
/// mount is refused uploaded; a base layer from another registry is streamed across, never written to disk), then the platform manifests by digest, then the index by digest, then the tags (a tag that
/// already points at the same digest is left alone). One <see cref="RegistryClient"/> per registry host.
/// </summary>
internal sealed class RegistryPublisher : IDisposable
{
    private const int MaxConcurrentUploads = 4;

    private readonly ConcurrentDictionary<string, RegistryClient> _clients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger;
    private readonly RegistryOptions _options;

    public RegistryPublisher(RegistryOptions options)
    {
        _options = options;
        _logger = options.Logger;
    }

    /// <summary>
    /// Splits an image name into the registry API host and the repository path, as docker reads names: a first
    /// component without '.' or ':' that is not <c>localhost</c> is a Docker Hub namespace (<c>team/app</c> is
    /// <c>docker.io/team/app</c>, sent to <c>registry-1.docker.io</c>). A name that is only a registry host, or that
    /// carries a tag or digest, is refused.
    /// </summary>
    public static (string Host, string Repository) ParseName(string name)
    {
        var reference = ParseRepository(name);
        return (reference.ApiHost, reference.Repository);
    }

    /// <summary>Checks that an image name (repository plus the naming strategy's suffix) can be pushed.</summary>
    public static void ValidateRepository(string repository) => ParseRepository(repository);

    private static ImageReference ParseRepository(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var trimmed = name.Trim().TrimEnd('/');
        name = ImageReference.Redact(name); // messages below never show a password written into KO_DOCKER_REPO
        if (!trimmed.Contains('/', StringComparison.Ordinal) && ImageReference.LooksLikeRegistry(trimmed))
        {
            throw new KoException(
                KoErrorCodes.InvalidOption,
                $"'{name}' names a registry but no repository; set KO_DOCKER_REPO to REGISTRY/REPOSITORY, e.g. {trimmed}/team.");
        }

        if (!ImageReference.TryParse(trimmed, out var reference, out var error))
        {
            throw new KoException(
                KoErrorCodes.InvalidOption,
                $"'{name}' is not a repository: {error}. Set KO_DOCKER_REPO to [REGISTRY/]REPOSITORY, e.g. registry.example/team or localhost:5000/team (no registry means docker.io).");
        }

        if (reference.Tag is not null || reference.Digest is not null)
        {
            throw new KoException(
                KoErrorCodes.InvalidOption,
                $"'{name}' carries a tag or digest; KO_DOCKER_REPO names a repository only (tags come from --tags), e.g. {reference.Name}.");
        }

        return reference;
    }

    /// <summary>Pushes one built image (all its platforms) and tags it.</summary>
    public async Task<PushOutcome> PublishAsync(NamedArtifact image, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(tags);
        var target = ParseRepository(image.Name);
        var (host, repository) = (target.ApiHost, target.Repository);
        var client = _clients.GetOrAdd(host, h => new RegistryClient(h, _options));

        // Manifests and indexes go up through the manifests API, not as blobs.
        var manifests = image.Images.Select(i => i.Digest).ToHashSet();
        if (image.Index is not null)
        {
            manifests.Add(image.Index.Digest);
        }

        var blobs = Blobs(image, manifests);
        var uploaded = 0;
        var skipped = 0;
        var mounted = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentUploads, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(blobs, parallel, async (blob, ct) =>
        {
            if (await client.BlobExistsAsync(repository, blob.Digest, ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref skipped);
                _logger.LogDebug("{Host}/{Repository} already has blob {Digest}", host, repository, blob.Digest);
                return;
            }

            if (blob.Layer is RemoteLayer remote
                && ImageReference.SameRegistry(remote.Registry, target.Registry)
                && !string.Equals(remote.Repository, repository, StringComparison.Ordinal))
            {
                if (await client.MountBlobAsync(repository, blob.Digest, remote.Repository, ct).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref mounted);
                    _logger.LogDebug("Mounted blob {Digest} from {Host}/{From} into {Repository}", blob.Digest, host, remote.Repository, repository);
                    return;
                }

                _logger.LogDebug("{Host} refused to mount blob {Digest} from {From}; uploading it", host, blob.Digest, remote.Repository);
            }

            await client.UploadBlobAsync(repository, blob.Digest, blob.Size, blob.Open, ct).ConfigureAwait(false);
            Interlocked.Increment(ref uploaded);
            _logger.LogDebug("Uploaded blob {Digest} ({Size} bytes) to {Host}/{Repository}", blob.Digest, blob.Size, host, repository);
        }).ConfigureAwait(false);

        foreach (var child in image.Images)
        {
            await PutManifestIfMissingAsync(client, repository, child.Digest, child.Manifest.MediaType, child.ManifestBytes, cancellationToken).ConfigureAwait(false);
        }

        if (image.Index is not null)
        {
            await PutManifestIfMissingAsync(client, repository, image.Index.Digest, image.Index.Index.MediaType, image.Index.IndexBytes, cancellationToken).ConfigureAwait(false);
        }

        foreach (var tag in tags)
        {
            if (await client.ManifestDigestAsync(repository, tag, cancellationToken).ConfigureAwait(false) == image.Digest)
            {
                _logger.LogDebug("{Host}/{Repository}:{Tag} already points at {Digest}", host, repository, tag, image.Digest);
                continue;
            }

            await client.PutManifestAsync(repository, tag, image.MediaType, image.RootBytes, cancellationToken).ConfigureAwait(false);
        }

        _logger.LogInformation("Pushed {Name}@{Digest}: {Uploaded} blob(s) uploaded, {Mounted} mounted, {Skipped} already there", image.Name, image.Digest, uploaded, mounted, skipped);
        return new PushOutcome(uploaded, skipped, mounted);
    }

    /// <summary>
    /// Pushes the SBOM artifacts of a pushed image and attaches them. <see cref="Sbom.SbomAttachment.Referrers"/>: each artifact
    /// (with its <c>subject</c>) by digest, then the referrers tag schema index <c>sha256-&lt;hex&gt;</c> of its subject is
    /// read, gains the artifact and is put back, so registries without the referrers API (docker-registry 2.8) list it
    /// too; a registry with the API finds it by its subject either way. <see cref="Sbom.SbomAttachment.Tag"/>: ko's
    /// <c>sha256-&lt;hex&gt;.sbom</c> tag. Already-attached artifacts cost two requests each. Returns the artifacts'
    /// references (<c>name@digest</c>).
    /// </summary>
    public async Task<IReadOnlyList<string>> AttachSbomsAsync(NamedArtifact image, IReadOnlyList<Sbom.SbomArtifact> sboms, Sbom.SbomAttachment mode, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(sboms);
        var target = ParseRepository(image.Name);
        var repository = target.Repository;
        var client = _clients.GetOrAdd(target.ApiHost, h => new RegistryClient(h, _options));
        var references = new List<string>();
        foreach (var sbom in sboms)
        {
            var tag = $"{sbom.Subject.Digest.Algorithm}-{sbom.Subject.Digest.Hex}";
            if (mode == Sbom.SbomAttachment.Tag)
            {
                tag += ".sbom";
                if (await client.ManifestDigestAsync(repository, tag, cancellationToken).ConfigureAwait(false) != sbom.Digest)
                {
                    await PushArtifactAsync(client, repository, sbom, cancellationToken).ConfigureAwait(false);
                    await client.PutManifestAsync(repository, tag, MediaTypes.OciManifest, sbom.ManifestBytes, cancellationToken).ConfigureAwait(false);
                }
            }
            else
            {
                // The referrers tag schema (distribution-spec 1.1): read the index, add the artifact, put it back.
                var existing = await client.ManifestDigestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                var entries = new List<Descriptor>();
                if (existing is not null)
                {
                    var (_, bytes, _) = await client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
                    try
                    {
                        entries.AddRange(Oci.Index.Parse(bytes, $"{image.Name}:{tag}").Manifests);
                    }
                    catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
                    {
                        throw new KoException(KoErrorCodes.PushFailed, $"{image.Name}:{tag} is not a referrers index ({ex.Message}); delete that tag or use --sbom-attach=tag.", ex);
                    }
                }

                if (entries.Any(e => e.Digest == sbom.Digest))
                {
                    _logger.LogDebug("{Name}:{Tag} already lists SBOM {Digest}", image.Name, tag, sbom.Digest);
                }
                else
                {
                    await PushArtifactAsync(client, repository, sbom, cancellationToken).ConfigureAwait(false);
                    entries.Add(sbom.Descriptor);
                    await client.PutManifestAsync(repository, tag, MediaTypes.OciIndex, new Oci.Index(MediaTypes.OciIndex, entries).ToBytes(), cancellationToken).ConfigureAwait(false);
                }
            }

            references.Add($"{image.Name}@{sbom.Digest}");
            _logger.LogDebug("Attached {Format} SBOM {Digest} to {Name}@{Subject}", sbom.Format, sbom.Digest, image.Name, sbom.Subject.Digest);
        }

        return references;
    }

    private static async Task PushArtifactAsync(RegistryClient client, string repository, Sbom.SbomArtifact sbom, CancellationToken cancellationToken)
    {
        foreach (var (digest, size, open) in sbom.Blobs())
        {
            if (!await client.BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
            {
                await client.UploadBlobAsync(repository, digest, size, open, cancellationToken).ConfigureAwait(false);
            }
        }

        await PutManifestIfMissingAsync(client, repository, sbom.Digest, MediaTypes.OciManifest, sbom.ManifestBytes, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    /// <summary>
    /// Every layer and config blob of the image, each once, with the layer it came from (null for configs). Manifests
    /// and indexes go up through the manifests API, not as blobs.
    /// </summary>
    private static List<(Digest Digest, long Size, Func<CancellationToken, ValueTask<Stream>> Open, ILayer? Layer)> Blobs(NamedArtifact image, HashSet<Digest> manifests)
    {
        var seen = new HashSet<Digest>(manifests);
        var blobs = new List<(Digest, long, Func<CancellationToken, ValueTask<Stream>>, ILayer?)>();
        foreach (var child in image.Images)
        {
            foreach (var layer in child.Layers)
            {
                if (seen.Add(layer.Descriptor.Digest))
                {
                    blobs.Add((layer.Descriptor.Digest, layer.Descriptor.Size, layer.OpenCompressedAsync, layer));
                }
            }

            if (seen.Add(child.Manifest.Config.Digest))
            {
                var bytes = child.ConfigBytes;
                blobs.Add((child.Manifest.Config.Digest, bytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes.ToArray(), false)), null));
            }
        }

        return blobs;
    }

    private static async Task PutManifestIfMissingAsync(RegistryClient client, string repository, Digest digest, string? mediaType, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (await client.ManifestDigestAsync(repository, digest.ToString(), cancellationToken).ConfigureAwait(false) == digest)
        {
            return;
        }

        await client.PutManifestAsync(repository, digest.ToString(), mediaType ?? MediaTypes.OciManifest, bytes, cancellationToken).ConfigureAwait(false);
    }
}
