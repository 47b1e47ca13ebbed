using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>
/// A layer of an OCI layout on disk that is not ours (an <c>oci:</c> base): its bytes are checked against the
/// digest as they are read, so a blob that does not match is never copied, archived or pushed. A mismatch is a
/// KO3003 naming the blob and the layout.
/// </summary>
internal sealed class LayoutBlobLayer(Descriptor descriptor, Digest diffId, string path, string layout) : ILayer
{
    public Descriptor Descriptor { get; } = descriptor;

    public Digest DiffId { get; } = diffId;

    public ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
        return ValueTask.FromResult<Stream>(new Registry.VerifyingStream(
            file,
            owner: null,
            Descriptor.Digest,
            Descriptor.Size,
            $"the blob {Descriptor.Digest} of the OCI layout {layout} ({path}) is corrupt",
            "nothing was written from it. Restore the layout (for example copy the image into it again with skopeo) and run again."));
    }
}
