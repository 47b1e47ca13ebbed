namespace Ko.Engine.Registry;

/// <summary>
/// A read-only window of <c>length</c> bytes starting at <c>offset</c> of another stream: a seekable source is
/// positioned, any other is read forward to the offset. Disposing the slice disposes the source.
/// </summary>
internal sealed class SliceStream : Stream
{
    private readonly Stream _inner;
    private long _remaining;

    private SliceStream(Stream inner, long length)
    {
        _inner = inner;
        _remaining = length;
    }

    /// <summary>Opens the source and moves to <paramref name="offset"/>.</summary>
    public static async ValueTask<Stream> OpenAsync(Func<CancellationToken, ValueTask<Stream>> open, long offset, long length, CancellationToken cancellationToken)
    {
        var source = await open(cancellationToken).ConfigureAwait(false);
        try
        {
            if (source.CanSeek)
            {
                source.Seek(offset, SeekOrigin.Begin);
            }
            else
            {
                var buffer = new byte[1 << 16];
                var skip = offset;
                while (skip > 0)
                {
                    var read = await source.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, skip)), cancellationToken).ConfigureAwait(false);
                    if (read == 0)
                    {
                        throw new IOException($"the blob ended before offset {offset}.");
                    }

                    skip -= read;
                }
            }

            return new SliceStream(source, length);
        }
        catch
        {
            await source.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var read = _inner.Read(buffer[..(int)Math.Min(buffer.Length, _remaining)]);
        _remaining -= read;
        return read;
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_remaining <= 0)
        {
            return 0;
        }

        var read = await _inner.ReadAsync(buffer[..(int)Math.Min(buffer.Length, _remaining)], cancellationToken).ConfigureAwait(false);
        _remaining -= read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

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
        }

        base.Dispose(disposing);
    }

    public override ValueTask DisposeAsync() => _inner.DisposeAsync();
}
