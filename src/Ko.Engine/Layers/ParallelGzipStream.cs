using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;

namespace Ko.Engine.Layers;

/// <summary>
/// A write-only gzip stream that compresses fixed-size blocks of its input independently, on up to
/// <c>workers</c> threads at once, and joins them as pigz does: each block's raw deflate ends with a sync flush
/// (byte-aligned, not final), the stream ends with one empty final block, and the whole is one gzip member with
/// the CRC-32 and length of all input. A block's bytes depend only on its own content, so the output is the same
/// for any number of workers. A block that does not shrink is written as stored blocks instead, so the output is
/// never more than 5 bytes per 64 KiB (plus 20 bytes of header and trailer) larger than the input.
/// Memory: at most <c>workers + 1</c> input blocks and their outputs.
/// </summary>
internal sealed class ParallelGzipStream : Stream
{
    /// <summary>Input bytes per independently compressed block.</summary>
    public const int BlockSize = 1 << 20;

    /// <summary>
    /// The zlib(-ng) level the layers use: .NET's zlib-ng at level 1 takes a quicker, weaker path than zlib's
    /// <c>gzip -1</c> (about 18% larger); level 2 is measured to land within a few percent of <c>gzip -1</c>.
    /// </summary>
    public const int DefaultLevel = 2;

    private const int MaxStored = 65535;
    private static readonly byte[] Header = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff];
    private static readonly byte[] FinalEmptyBlock = [0x03, 0x00];

    private readonly Stream _inner;
    private readonly bool _leaveOpen;
    private readonly int _level;
    private readonly int _workers;
    private readonly Queue<Task<(byte[] Buffer, int Length)>> _pending = new();
    private readonly Crc32 _crc = new();
    // A pool of this stream's own, bounded by its workers: the shared pool would keep up to dozens of 2 MiB arrays
    // per core alive after the layer is written.
    private readonly ArrayPool<byte> _pool;
    private byte[] _block;
    private int _filled;
    private long _length;
    private bool _headerWritten;
    private bool _finished;

    /// <summary>Creates a stream that writes one gzip member to <paramref name="inner"/>.</summary>
    public ParallelGzipStream(Stream inner, int level = DefaultLevel, int workers = 0, bool leaveOpen = false)
    {
        _inner = inner;
        _leaveOpen = leaveOpen;
        _level = level;
        // More than 8 workers buys little for one layer and costs 2 MiB each.
        _workers = workers > 0 ? workers : Math.Clamp(Environment.ProcessorCount, 1, 8);
        _pool = ArrayPool<byte>.Create(OutputCapacity(BlockSize), _workers + 2);
        _block = _pool.Rent(BlockSize);
    }

    /// <summary>Uncompressed bytes written so far.</summary>
    public long BytesIn => _length;

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => !_finished;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>Synchronous writes are not supported: blocks are handed to workers and awaited.</summary>
    public override void Write(byte[] buffer, int offset, int count) =>
        throw new NotSupportedException("ParallelGzipStream is written asynchronously.");

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_finished, this);
        while (!buffer.IsEmpty)
        {
            var n = Math.Min(buffer.Length, BlockSize - _filled);
            buffer.Span[..n].CopyTo(_block.AsSpan(_filled));
            _filled += n;
            buffer = buffer[n..];
            if (_filled == BlockSize)
            {
                await SubmitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Does nothing: where blocks end never depends on flushes, only on the input.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Compresses what is left, writes the final block and the trailer. Idempotent.</summary>
    public async Task FinishAsync(CancellationToken cancellationToken)
    {
        if (_finished)
        {
            return;
        }

        if (_filled > 0)
        {
            await SubmitAsync(cancellationToken).ConfigureAwait(false);
        }

        while (_pending.Count > 0)
        {
            await WriteOldestAsync(cancellationToken).ConfigureAwait(false);
        }

        await WriteHeaderOnceAsync(cancellationToken).ConfigureAwait(false);
        var trailer = new byte[FinalEmptyBlock.Length + 8];
        FinalEmptyBlock.CopyTo(trailer, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(2), _crc.GetCurrentHashAsUInt32());
        BinaryPrimitives.WriteUInt32LittleEndian(trailer.AsSpan(6), unchecked((uint)_length));
        await _inner.WriteAsync(trailer, cancellationToken).ConfigureAwait(false);
        _finished = true;
        ReturnBlock();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>Abandons the stream unless <see cref="FinishAsync"/> ran: an unfinished member is a failed output.</summary>
    public override ValueTask DisposeAsync()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
        return ValueTask.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // A dispose before FinishAsync (an error path) abandons the stream: workers finish on their own and their
            // buffers go back to the pool; nothing more is written.
            while (_pending.Count > 0)
            {
                var task = _pending.Dequeue();
                // Abandoned blocks' buffers go to the GC with this stream's pool.
                _ = task.ContinueWith(static t => t.Exception, TaskScheduler.Default);
            }

            _finished = true;
            ReturnBlock();
            if (!_leaveOpen)
            {
                _inner.Dispose();
            }
        }

        base.Dispose(disposing);
    }

    /// <summary>Raw deflate of one block, ending in a sync flush, or stored blocks when that is not smaller.</summary>
    internal static (byte[] Buffer, int Length) CompressBlock(ReadOnlySpan<byte> input, int level, ArrayPool<byte> pool)
    {
        var storedLength = input.Length + (5 * ((input.Length + MaxStored - 1) / MaxStored));
        // Sync-flushed deflate is bounded by deflateBound (about input + input/4096*5 + 13); this leaves room.
        var buffer = pool.Rent(OutputCapacity(input.Length));
        int length;
        using (var output = new MemoryStream(buffer, 0, buffer.Length, writable: true))
        {
#if NET9_0_OR_GREATER
            var deflate = new DeflateStream(output, new ZLibCompressionOptions { CompressionLevel = level }, leaveOpen: true);
#else
            // .NET 8 has no numeric levels (and zlib, not zlib-ng): other bytes than on .NET 10, which the tool runs on.
            var deflate = new DeflateStream(output, CompressionLevel.Fastest, leaveOpen: true);
#endif
            deflate.Write(input);
            deflate.Flush();
            length = (int)output.Position;
            // Disposing appends the final block (Z_FINISH); only the bytes up to the sync flush are kept.
            try
            {
                deflate.Dispose();
            }
            catch (NotSupportedException)
            {
                // The fixed-size buffer may have no room for the discarded final block: nothing is lost.
            }
        }

        if (length >= storedLength)
        {
            length = WriteStored(input, buffer);
        }

        return (buffer, length);
    }

    private static int OutputCapacity(int inputLength) => inputLength + (inputLength >> 3) + 1024;

    private static int WriteStored(ReadOnlySpan<byte> input, byte[] buffer)
    {
        var at = 0;
        do
        {
            var n = Math.Min(input.Length, MaxStored);
            buffer[at] = 0; // BFINAL=0, BTYPE=00, padded to the byte boundary the sync flush left.
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(at + 1), (ushort)n);
            BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(at + 3), (ushort)~n);
            input[..n].CopyTo(buffer.AsSpan(at + 5));
            at += 5 + n;
            input = input[n..];
        }
        while (!input.IsEmpty);
        return at;
    }

    private async ValueTask SubmitAsync(CancellationToken cancellationToken)
    {
        var block = _block;
        var count = _filled;
        _crc.Append(block.AsSpan(0, count));
        _length += count;
        var level = _level;
        var pool = _pool;
        _pending.Enqueue(Task.Run(
            () =>
            {
                try
                {
                    return CompressBlock(block.AsSpan(0, count), level, pool);
                }
                finally
                {
                    pool.Return(block);
                }
            },
            CancellationToken.None));
        _block = _pool.Rent(BlockSize);
        _filled = 0;
        while (_pending.Count >= _workers + 1)
        {
            await WriteOldestAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask WriteOldestAsync(CancellationToken cancellationToken)
    {
        var (buffer, length) = await _pending.Dequeue().ConfigureAwait(false);
        try
        {
            await WriteHeaderOnceAsync(cancellationToken).ConfigureAwait(false);
            await _inner.WriteAsync(buffer.AsMemory(0, length), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _pool.Return(buffer);
        }
    }

    private async ValueTask WriteHeaderOnceAsync(CancellationToken cancellationToken)
    {
        if (!_headerWritten)
        {
            _headerWritten = true;
            await _inner.WriteAsync(Header, cancellationToken).ConfigureAwait(false);
        }
    }

    private void ReturnBlock()
    {
        if (_block.Length > 0)
        {
            _pool.Return(_block);
            _block = [];
        }
    }
}
