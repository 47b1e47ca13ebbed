using System.Security.Cryptography;
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
        return ValueTask.FromResult<Stream>(new DigestCheckingStream(file, Descriptor.Digest, Descriptor.Size, $"blob {Descriptor.Digest} of the OCI layout {layout} ({path})"));
    }
}

/// <summary>
/// Reads through to a file and hashes what passes; when the descriptor's size has been read (or the file ends), the
/// hash must be the digest. Readers that stop at the size (the tar writers) are checked as much as readers that read
/// to the end.
/// </summary>
internal sealed class DigestCheckingStream(Stream inner, Digest digest, long size, string what) : Stream
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _checked;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => size;

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer) => Account(buffer, inner.Read(buffer), buffer.Length);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span, n, buffer.Length);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        _hash.Dispose();
        GC.SuppressFinalize(this);
    }

    private int Account(Span<byte> buffer, int n, int requested)
    {
        _hash.AppendData(buffer[..n]);
        _read += n;
        if (_read > size)
        {
            throw Mismatch($"it holds more than the {size} bytes its descriptor names");
        }

        if (!_checked && (_read == size || (n == 0 && requested > 0)))
        {
            _checked = true;
            if (_read != size)
            {
                throw Mismatch($"it holds {_read} bytes, its descriptor names {size}");
            }

            var actual = Digest.FromSha256Hash(_hash.GetHashAndReset());
            if (actual != digest)
            {
                throw Mismatch($"its bytes hash to {actual}");
            }
        }

        return n;
    }

    private KoException Mismatch(string detail) =>
        new(KoErrorCodes.BaseImageUnreadable, $"the {what} is corrupt: {detail}, not {digest}. Nothing was written from it; restore the layout (for example copy the image into it again with skopeo) and run again.");
}
