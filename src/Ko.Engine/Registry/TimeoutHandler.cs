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
        var original = request.Content;
        if (original is null)
        {
            timer.CancelAfter(options.ResponseTimeout);
        }
        else
        {
            request.Content = new TimedRequestContent(original, options.IdleTimeout, target, () => timer.CancelAfter(options.ResponseTimeout));
        }

        try
        {
            var response = await base.SendAsync(request, timer.Token).ConfigureAwait(false);
            response.Content = new IdleTimeoutContent(response.Content, options.IdleTimeout, target);
            return response;
        }
        catch (OperationCanceledException ex) when (timer.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new RegistryTimeoutException(
                $"{target} did not answer {request.Method} {request.RequestUri.AbsolutePath} within {Ms(options.ResponseTimeout)} ms. Check that it is up and reachable, or raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow",
                ex);
        }
        catch (HttpRequestException ex) when (ex.InnerException is RegistryTimeoutException timeout)
        {
            throw new RegistryTimeoutException(timeout.Message, ex);
        }
        finally
        {
            request.Content = original;
        }
    }

    internal static string Ms(TimeSpan span) => ((long)span.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);

    /// <summary>A request body sent with an idle timeout per write; reports when it has been sent whole.</summary>
    private sealed class TimedRequestContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly TimeSpan _idle;
        private readonly string _target;
        private readonly Action _sent;

        public TimedRequestContent(HttpContent inner, TimeSpan idle, string target, Action sent)
        {
            _inner = inner;
            _idle = idle;
            _target = target;
            _sent = sent;
            foreach (var header in inner.Headers.Where(h => !h.Key.Equals("Content-Length", StringComparison.OrdinalIgnoreCase)))
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
        {
            await _inner.CopyToAsync(new IdleWriteStream(stream, _idle, _target), context, cancellationToken).ConfigureAwait(false);
            _sent();
        }

        protected override bool TryComputeLength(out long length)
        {
            var known = _inner.Headers.ContentLength;
            length = known ?? 0;
            return known.HasValue;
        }
    }

    /// <summary>Writes through to the connection; a write that does not complete within the idle timeout fails.</summary>
    private sealed class IdleWriteStream(Stream inner, TimeSpan idle, string target) : Stream
    {
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

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timer.CancelAfter(idle);
            try
            {
                await inner.WriteAsync(buffer, timer.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                throw new RegistryTimeoutException(
                    $"{target} took nothing of the request body for {Ms(idle)} ms. Check that it is up and reachable, or raise {RegistryOptions.IdleTimeoutVariable} if it is just slow",
                    ex);
            }
        }
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
        $"{target} sent nothing for {TimeoutHandler.Ms(idle)} ms in the middle of a response body (after {_read} bytes). Check that it is up and reachable, or raise {RegistryOptions.IdleTimeoutVariable} if it is just slow.");

    private IOException Broken(Exception ex) =>
        new($"the connection to {target} broke after {_read} bytes of a response body: {NetworkErrors.Describe(ex)}", ex);
}
