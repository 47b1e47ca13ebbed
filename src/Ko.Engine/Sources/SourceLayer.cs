using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// A layer read from a layout or archive: opened only when a sink streams it, and checked against its digest and size
/// while it streams (a mismatch is <c>corruptCode</c>: <see cref="KoErrorCodes.SourceCorrupt"/>, or for a
/// base image <see cref="KoErrorCodes.BaseImageUnreadable"/>).
/// </summary>
internal sealed class SourceLayer(Descriptor descriptor, Digest diffId, LayoutFiles files, string relativePath, string corruptCode = KoErrorCodes.SourceCorrupt) : ILayer
{
    public Descriptor Descriptor { get; } = descriptor;

    public Digest DiffId { get; } = diffId;

    public async ValueTask<Stream> OpenCompressedAsync(CancellationToken cancellationToken)
    {
        Stream raw;
        try
        {
            raw = await files.OpenAsync(relativePath, cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw new KoException(corruptCode, $"{files.Description}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.SourceUnreadable, $"{files.Description}: {relativePath} cannot be read: {Util.SystemMessage.Of(ex)}", ex);
        }

        return new Registry.VerifyingStream(
            raw,
            owner: null,
            Descriptor.Digest,
            Descriptor.Size,
            $"the layer {Descriptor.Digest} in {files.Description} ({relativePath}) is corrupt",
            "nothing was written from it. Restore the layout or archive (write it again) and run again.",
            corruptCode);
    }
}
