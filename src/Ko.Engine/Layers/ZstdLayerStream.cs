namespace Ko.Engine.Layers;

/// <summary>
/// A write-only zstd stream for layers: one frame, written by <see cref="FinishAsync"/>. Flushes are ignored, so a
/// layer's bytes depend only on its tar and the level, never on when a writer flushed.
/// </summary>
internal sealed class ZstdLayerStream(Stream inner, int level) : Stream
{
    private readonly ZstdSharp.CompressionStream _zstd = new(inner, level, leaveOpen: true);
    private bool _finished;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_finished;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("ZstdLayerStream is written asynchronously.");

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        return _zstd.WriteAsync(buffer, cancellationToken);
    }

    /// <summary>Does nothing: a flush would end a zstd block early and make the bytes depend on it.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Ends the frame. Idempotent.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return;
        }

        cancellationToken.ThrowIfCancellationRequested();
        await _zstd.DisposeAsync().ConfigureAwait(false);
        _finished = true;
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_finished)
        {
            _finished = true;
            _zstd.Dispose();
        }

        base.Dispose(disposing);
    }
}
