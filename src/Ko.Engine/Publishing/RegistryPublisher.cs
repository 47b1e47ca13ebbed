using System.Collections.Concurrent;
using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Publishing;

/// <summary>What a push did: blobs uploaded and blobs the registry already had.</summary>
internal readonly record struct PushOutcome(int BlobsUploaded, int BlobsSkipped)
{
    public static PushOutcome operator +(PushOutcome a, PushOutcome b) => new(a.BlobsUploaded + b.BlobsUploaded, a.BlobsSkipped + b.BlobsSkipped);
}

/// <summary>
/// Pushes built images to their registry: every layer and config blob the registry lacks (HEAD first, up to four
/// uploads at a time), then the platform manifests by digest, then the index by digest, then the tags (a tag that
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
    /// Splits an image name into registry host and repository path. The first component is the registry when it
    /// contains '.' or ':' or is <c>localhost</c>; names without one (Docker Hub's) are not supported yet.
    /// </summary>
    public static (string Host, string Repository) ParseName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var slash = name.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? name : name[..slash];
        if (!IsRegistryHost(first))
        {
            throw new KoException(
                KoErrorCodes.InvalidOption,
                $"'{name}' does not start with a registry host (a name with '.' or ':', or localhost); registries like docker.io are not supported yet. Set KO_DOCKER_REPO to REGISTRY/REPOSITORY, e.g. localhost:5000/team.");
        }

        var repository = slash < 0 ? string.Empty : name[(slash + 1)..].Trim('/');
        if (repository.Length == 0)
        {
            throw new KoException(
                KoErrorCodes.InvalidOption,
                $"'{name}' names a registry but no repository; set KO_DOCKER_REPO to REGISTRY/REPOSITORY, e.g. {first}/team.");
        }

        return (first, repository);
    }

    /// <summary>Checks that a repository such as <c>KO_DOCKER_REPO</c> starts with a supported registry host.</summary>
    public static void ValidateRepository(string repository)
    {
        ArgumentNullException.ThrowIfNull(repository);
        var slash = repository.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? repository : repository[..slash];
        if (!IsRegistryHost(first))
        {
            ParseName(repository);
        }
    }

    /// <summary>Pushes one built image (all its platforms) and tags it.</summary>
    public async Task<PushOutcome> PublishAsync(BuiltImage image, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(tags);
        var (host, repository) = ParseName(image.Name);
        var client = _clients.GetOrAdd(host, h => new RegistryClient(h, _options));

        // Blobs yields manifests and indexes too; those go up through the manifests API, not as blobs.
        var manifests = image.Images.Select(i => i.Digest).ToHashSet();
        if (image.Index is not null)
        {
            manifests.Add(image.Index.Digest);
        }

        var blobs = OciLayoutWriter.Blobs([image]).Where(b => !manifests.Contains(b.Digest)).ToList();
        var uploaded = 0;
        var skipped = 0;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentUploads, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(blobs, parallel, async (blob, ct) =>
        {
            if (await client.BlobExistsAsync(repository, blob.Digest, ct).ConfigureAwait(false))
            {
                Interlocked.Increment(ref skipped);
                _logger.LogDebug("{Host}/{Repository} already has blob {Digest}", host, repository, blob.Digest);
                return;
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

        _logger.LogInformation("Pushed {Name}@{Digest}: {Uploaded} blob(s) uploaded, {Skipped} already there", image.Name, image.Digest, uploaded, skipped);
        return new PushOutcome(uploaded, skipped);
    }

    public void Dispose()
    {
        foreach (var client in _clients.Values)
        {
            client.Dispose();
        }

        _clients.Clear();
    }

    private static bool IsRegistryHost(string component) =>
        component.Length > 0 && (component.Contains('.', StringComparison.Ordinal) || component.Contains(':', StringComparison.Ordinal) || component == "localhost");

    private static async Task PutManifestIfMissingAsync(RegistryClient client, string repository, Digest digest, string? mediaType, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        if (await client.ManifestDigestAsync(repository, digest.ToString(), cancellationToken).ConfigureAwait(false) == digest)
        {
            return;
        }

        await client.PutManifestAsync(repository, digest.ToString(), mediaType ?? MediaTypes.OciManifest, bytes, cancellationToken).ConfigureAwait(false);
    }
}
