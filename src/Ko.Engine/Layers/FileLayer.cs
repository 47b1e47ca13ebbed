using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>A layer whose compressed bytes are a file on disk (content store or OCI layout blob).</summary>
internal sealed class FileLayer(Descriptor descriptor, Digest diffId, string path) : ILayer
{
    public Descriptor Descriptor { get; } = descriptor;

    public Digest DiffId { get; } = diffId;

    public string Path { get; } = path;

    /// <summary>
    /// The file's stat fingerprint when its bytes were last known to hash to the digest (written, or checked by the
    /// layer cache), or null when not known. While the file's fingerprint is this one, it need not be hashed again.
    /// </summary>
    public Util.FileFingerprint? Verified { get; init; }

    public ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Stream stream = new FileStream(Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return ValueTask.FromResult(stream);
    }
}
