using System.Security.Cryptography;
using Ko.Engine.Oci;

namespace Ko.Engine.Registry;

/// <summary>
/// A read-only stream over a blob (a registry response body, a file of an OCI layout) that hashes every byte read and
/// throws a <see cref="KoException"/> (<see cref="KoErrorCodes.BaseImageUnreadable"/>) when the bytes do not hash to
/// the expected SHA-256 digest or their count differs from the expected size. The check runs as soon as the expected
/// size has been read (readers that stop there, such as the tar writers, are checked as much as readers that read to
/// the end) or when the stream ends. Disposing it disposes the inner stream and <c>owner</c> (the response).
/// </summary>
internal sealed class VerifyingStream : Stream
{
    private readonly Stream _inner;
    private readonly IDisposable? _owner;
    private readonly Digest _digest;
    private readonly long? _size;
    private readonly string _where;
    private readonly string _advice;
    private readonly string _code;
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private long _read;
    private bool _verified;

    /// <param name="inner">The blob's bytes.</param>
    /// <param name="owner">Disposed with the stream (a response), or null.</param>
    /// <param name="digest">The digest the bytes must hash to.</param>
    /// <param name="size">The size the descriptor names, when known.</param>
    /// <param name="where">What is read, for messages ("registry r.example: GET blob …").</param>
    /// <param name="advice">The sentence that ends a mismatch message: what it means and what to do (default: a registry's blob).</param>
    /// <param name="code">The error code of a mismatch (default: a base image unreadable).</param>
    public VerifyingStream(Stream inner, IDisposable? owner, Digest digest, long? size, string where, string advice = "the blob is corrupt or the registry served the wrong content.", string code = KoErrorCodes.BaseImageUnreadable)
    {
        _code = code;
        _inner = inner;
        _owner = owner;
        _digest = digest;
        _size = size;
        _where = where;
        _advice = advice;
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => _size ?? throw new NotSupportedException();

    public override long Position
    {
        get => _read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        var n = _inner.Read(buffer);
        return Account(buffer[..n], n, buffer.Length);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var n = await _inner.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        return Account(buffer.Span[..n], n, buffer.Length);
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
            _inner.Dispose();
            _owner?.Dispose();
            _hash.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await _inner.DisposeAsync().ConfigureAwait(false);
        _owner?.Dispose();
        _hash.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private int Account(ReadOnlySpan<byte> data, int n, int requested)
    {
        _hash.AppendData(data);
        _read += n;
        if (_size is { } max && _read > max)
        {
            throw Mismatch($"it holds more than the {max} bytes the descriptor names");
        }

        var ended = n == 0 && requested > 0;
        if (!_verified && (ended || _read == _size))
        {
            _verified = true;
            if (_size is { } expected && _read != expected)
            {
                throw Mismatch($"it holds {_read} bytes, the descriptor names {expected}");
            }

            var actual = Digest.FromSha256Hash(_hash.GetHashAndReset());
            if (actual != _digest)
            {
                throw Mismatch($"its bytes hash to {actual}, not {_digest}");
            }
        }

        return n;
    }

    private KoException Mismatch(string detail) => new(_code, $"{_where}: {detail}; {_advice}");
}
