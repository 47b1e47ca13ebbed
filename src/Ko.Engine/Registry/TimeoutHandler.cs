using System.Globalization;
using System.Net;

namespace Ko.Engine.Registry;

/// <summary>
/// A host did not answer in time. Retried like an I/O error by <see cref="RetryHandler"/>; callers turn it into
/// <see cref="KoErrorCodes.RegistryTimeout"/>. The message is a sentence that names the host and the variable to raise.
/// </summary>
internal sealed class RegistryTimeoutException(string message, Exception? inner = null) : TimeoutException(message, inner);

/// <summary>
/// The innermost handler above the sockets: every request on the wire gets its own timers. Until the response
/// headers arrive, at most <see cref="RegistryOptions.ResponseTimeout"/> counted from the end of the request body
/// (a request body is written under the idle timeout, so a long upload is not cut off); the response body then
/// reads under <see cref="RegistryOptions.IdleTimeout"/> between bytes. Connecting is bounded by the sockets
/// handler's <see cref="SocketsHttpHandler.ConnectTimeout"/>.
/// </summary>
internal sealed class TimeoutHandler(RegistryOptions options) : DelegatingHandler
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var target = request.RequestUri!.Authority;
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var writing = false;
        var original = request.Content;
        var answerWithin = ResponseTimeoutFor(options.ResponseTimeout, original?.Headers.ContentLength);
        if (original is null)
        {
            timer.CancelAfter(answerWithin);
        }
        else
        {
            // The sockets handler ignores the token of a body write; only the request's token aborts one. So each
            // write arms the request's timer with the idle timeout, and the end of the body with the response timeout.
            request.Content = new TimedRequestContent(original, new IdleWriteStream.Watch(
                () =>
                {
                    writing = true;
                    Arm(options.IdleTimeout);
                },
                () => Arm(Timeout.InfiniteTimeSpan),
                () =>
                {
                    writing = false;
                    Arm(answerWithin);
                }));
        }

        // A body still being written when an early answer ends the exchange must not fail on the disposed timer.
        void Arm(TimeSpan delay)
        {
            try
            {
                timer.CancelAfter(delay);
            }
            catch (ObjectDisposedException)
            {
            }
        }

        try
        {
            var response = await base.SendAsync(request, timer.Token).ConfigureAwait(false);
            response.Content = new IdleTimeoutContent(response.Content, options.IdleTimeout, target);
            return response;
        }
        catch (Exception ex) when (ex is OperationCanceledException or HttpRequestException or IOException && timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw writing
                ? new RegistryTimeoutException(
                    $"{target} took nothing of the request body for {Ms(options.IdleTimeout)} ms. Check that it is up and reachable, or raise {RegistryOptions.IdleTimeoutVariable} if it is just slow",
                    ex)
                : new RegistryTimeoutException(
                $"{target} did not answer {request.Method} {request.RequestUri.AbsolutePath} within {Ms(answerWithin)} ms. Check that it is up and reachable, or raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow",
                ex);
        }
        finally
        {
            request.Content = original;
        }
    }

    /// <summary>
    /// How long an answer may take once the request is sent: the response timeout, plus one second per 8 MiB of the
    /// request body, since a registry commits (moves, hashes) an uploaded blob in its storage before it answers the
    /// final PUT, and for a layer of gigabytes on object storage that takes minutes.
    /// </summary>
    internal static TimeSpan ResponseTimeoutFor(TimeSpan responseTimeout, long? bodyBytes) =>
        bodyBytes is > 0 ? responseTimeout + TimeSpan.FromSeconds(bodyBytes.Value / (8.0 * 1024 * 1024)) : responseTimeout;

    internal static string Ms(TimeSpan span) => ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>A request body sent with an idle timeout per write; reports when it has been sent whole.</summary>
    private sealed class TimedRequestContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly IdleWriteStream.Watch _watch;

        public TimedRequestContent(HttpContent inner, IdleWriteStream.Watch watch)
        {
            _inner = inner;
            _watch = watch;
            foreach (var header in inner.Headers.Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await _inner.CopyToAsync(new IdleWriteStream(stream, _watch), context, cancellationToken).ConfigureAwait(false);
            _watch.Sent();
        }

        protected override bool TryComputeLength(out long length)
        {
            var known = _inner.Headers.ContentLength;
            length = known ?? 0;
            return known.HasValue;
        }
    }

    /// <summary>Writes through to the connection, telling the watch when each write starts and ends.</summary>
    private sealed class IdleWriteStream(Stream inner, IdleWriteStream.Watch watch) : Stream
    {
        /// <summary>What a write starting, a write done and the whole body sent do to the request's timer.</summary>
        public sealed record Watch(Action Writing, Action Wrote, Action Sent);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count)
        {
            watch.Writing();
            inner.Write(buffer, offset, count);
            watch.Wrote();
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            // Large writes go in slices, so "idle" means no progress for that long, not a slow 64 MB write.
            for (var at = 0; at < buffer.Length; at += Slice)
            {
                watch.Writing();
                await inner.WriteAsync(buffer.Slice(at, Math.Min(Slice, buffer.Length - at)), cancellationToken).ConfigureAwait(false);
                watch.Wrote();
            }
        }

        private const int Slice = 1 << 16;
    }

    /// <summary>The response body, read through an <see cref="IdleTimeoutStream"/>.</summary>
    private sealed class IdleTimeoutContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly TimeSpan _idle;
        private readonly string _target;

        public IdleTimeoutContent(HttpContent inner, TimeSpan idle, string target)
        {
            _inner = inner;
            _idle = idle;
            _target = target;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new IdleTimeoutStream(await _inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), _idle, _target);

        protected override Task<Stream> CreateContentReadStreamAsync() => CreateContentReadStreamAsync(CancellationToken.None);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            var body = await CreateContentReadStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (body.ConfigureAwait(false))
            {
                await body.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            var known = _inner.Headers.ContentLength;
            length = known ?? 0;
            return known.HasValue;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}

/// <summary>
/// A response body whose every read must bring something within the idle timeout; a silence that long is a
/// <see cref="KoException"/> (<see cref="KoErrorCodes.RegistryTimeout"/>), and a connection that breaks mid-body
/// is an <see cref="IOException"/> whose message is a sentence naming the host.
/// </summary>
internal sealed class IdleTimeoutStream(Stream inner, TimeSpan idle, string target) : Stream
{
    private long _read;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => _read; set => throw new NotSupportedException(); }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        // A blocking read cannot take a token: a timer closes the connection under it instead.
        using var timer = new CancellationTokenSource(idle);
        using var abort = timer.Token.Register(inner.Dispose);
        try
        {
            return Count(inner.Read(buffer));
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
            throw timer.IsCancellationRequested ? Silence() : Broken(ex);
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(idle);
        try
        {
            return Count(await inner.ReadAsync(buffer, timer.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Silence();
        }
        catch (IOException ex)
        {
            throw Broken(ex);
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    private int Count(int n)
    {
        _read += n;
        return n;
    }

    private KoException Silence() => new(
        KoErrorCodes.RegistryTimeout,
        $"the connection to {target} went silent: nothing arrived for {TimeoutHandler.Ms(idle)} ms in the middle of a response body (after {_read} bytes). Check that it is up and reachable, or raise {RegistryOptions.IdleTimeoutVariable} if it is just slow.");

    private IOException Broken(Exception ex) =>
        new($"the connection to {target} broke after {_read} bytes of a response body: {NetworkErrors.Describe(ex)}", ex);
}
