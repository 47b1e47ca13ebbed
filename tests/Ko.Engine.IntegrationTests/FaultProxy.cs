using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ko.Engine.IntegrationTests;

/// <summary>One request as the proxy saw it, before deciding what to do with it.</summary>
public sealed record FaultRequest(string Method, string Target, IReadOnlyDictionary<string, string> Headers, long ContentLength)
{
    /// <summary>The target without its query.</summary>
    public string Path => Target.Split('?', 2)[0];

    public bool HasAuthorization => Headers.ContainsKey("Authorization");
}

/// <summary>What the proxy does with a request.</summary>
public abstract record FaultAction
{
    /// <summary>Pass it to the registry and its answer back.</summary>
    public static readonly FaultAction Forward = new ForwardAction();

    /// <summary>Answer it here with a status (and headers), never bothering the registry.</summary>
    public static FaultAction Respond(int status, params (string Name, string Value)[] headers) => new RespondAction(status, headers);

    /// <summary>
    /// Read the first <paramref name="bytes"/> of the body from the client, then reset its connection. With
    /// <paramref name="forward"/> the head and those bytes go to the registry first (which then keeps a partial
    /// upload); without it the registry never hears of the request.
    /// </summary>
    public static FaultAction ResetAfter(long bytes, bool forward = false) => new ResetAction(bytes, forward);

    /// <summary>Read the request, then say nothing at all until the proxy is disposed (a registry that hangs).</summary>
    public static readonly FaultAction Hang = new HangAction();

    /// <summary>Read the request's head but none of its body, and say nothing: a registry that stops taking an upload.</summary>
    public static readonly FaultAction Stall = new StallAction();

    /// <summary>
    /// Answer with a status, headers and a body of <paramref name="length"/> bytes of <paramref name="fill"/> (its
    /// Content-Length announced), sent one byte every <paramref name="interval"/>: a registry that trickles.
    /// </summary>
    public static FaultAction Trickle(int status, long length, TimeSpan interval, byte fill = (byte)'a', params (string Name, string Value)[] headers) =>
        new TrickleAction(status, length, interval, fill, headers);

    /// <summary>
    /// Answer with a status and a body that never ends (no Content-Length, <c>Connection: close</c>): first
    /// <paramref name="prefix"/>, then <c>a</c> for as long as the client reads (bounded by the proxy's I/O timeout).
    /// </summary>
    public static FaultAction Endless(int status, string prefix, params (string Name, string Value)[] headers) => new EndlessAction(status, prefix, headers);

    public sealed record ForwardAction : FaultAction;

    public sealed record RespondAction(int Status, (string Name, string Value)[] Headers) : FaultAction;

    public sealed record ResetAction(long Bytes, bool ToRegistry) : FaultAction;

    public sealed record HangAction : FaultAction;

    public sealed record StallAction : FaultAction;

    public sealed record TrickleAction(int Status, long Length, TimeSpan Interval, byte Fill, (string Name, string Value)[] Headers) : FaultAction;

    public sealed record EndlessAction(int Status, string Prefix, (string Name, string Value)[] Headers) : FaultAction;
}

/// <summary>
/// What happened to one request: the registry's status (0 when none came back), what the proxy did, and every
/// request header as it arrived (so a test can prove on the wire which secrets reached this host).
/// </summary>
public sealed record FaultRecord(string Method, string Target, bool HadAuthorization, long ContentLength, FaultAction Action, int Status, DateTimeOffset At)
{
    public string Path => Target.Split('?', 2)[0];

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>The request line and every header, one per line, as received.</summary>
    public string Wire => $"{Method} {Target}\n" + string.Join("\n", Headers.Select(h => $"{h.Key}: {h.Value}"));
}

/// <summary>
/// A fault-injecting HTTP/1.1 proxy on a free loopback port in front of a registry (also loopback). It reads each
/// request's head, asks the test's rule what to do, and forwards it with <c>Connection: close</c> (so the answer
/// is simply piped until the registry closes), answers it itself, or forwards part of the body and then resets
/// the connection. Every request is recorded. Bodies must carry a Content-Length (the engine always sends one).
/// Like a plain HTTP server, it answers a TLS hello with 400, so the engine's loopback TLS probe falls back to http.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private static readonly TimeSpan IoTimeout = TimeSpan.FromSeconds(60);
    private readonly TcpListener _listener;
    private readonly int _upstreamPort;
    private readonly TimeSpan _ioTimeout;
    private readonly Func<FaultRequest, FaultAction> _rule;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private readonly List<FaultRecord> _records = [];

    /// <param name="upstreamPort">The registry's port (0 for a proxy that only answers itself: a fake host).</param>
    /// <param name="rule">What to do with each request.</param>
    /// <param name="ioTimeout">How long one connection may live (60 s when not given); hangs end then.</param>
    public FaultProxy(int upstreamPort, Func<FaultRequest, FaultAction> rule, TimeSpan? ioTimeout = null)
    {
        _upstreamPort = upstreamPort;
        _ioTimeout = ioTimeout ?? IoTimeout;
        _rule = rule;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public IReadOnlyList<FaultRecord> Records
    {
        get
        {
            lock (_records)
            {
                return [.. _records];
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _accepting;
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException)
        {
        }
        catch (ObjectDisposedException)
        {
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(_ioTimeout);
        var ct = timeout.Token;
        try
        {
            using (client)
            {
                var downstream = client.GetStream();
                var reader = new HeadReader(downstream);
                while (true)
                {
                    var head = await reader.ReadHeadAsync(ct);
                    if (head is null)
                    {
                        return;
                    }

                    if (head.Length == 0)
                    {
                        // Not HTTP (the engine probes loopback registries with a TLS hello first): answer as a plain
                        // HTTP server does, so the client learns there is no TLS here.
                        await downstream.WriteAsync("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"u8.ToArray(), ct);
                        return;
                    }

                    var request = Parse(head);
                    var action = _rule(request);
                    switch (action)
                    {
                        case FaultAction.RespondAction respond:
                            await reader.DrainAsync(request.ContentLength, ct);
                            Record(request, action, respond.Status);
                            await WriteResponseAsync(downstream, respond, ct);
                            continue; // keep-alive: the client may send its next request on this connection

                        case FaultAction.HangAction:
                            await reader.DrainAsync(request.ContentLength, ct);
                            Record(request, action, 0);
                            await Task.Delay(Timeout.Infinite, ct);
                            return;

                        case FaultAction.StallAction:
                            Record(request, action, 0);
                            await Task.Delay(Timeout.Infinite, ct);
                            return;

                        case FaultAction.TrickleAction trickle:
                            await reader.DrainAsync(request.ContentLength, ct);
                            Record(request, action, trickle.Status);
                            await WriteHeadAsync(downstream, trickle.Status, trickle.Headers, $"Content-Length: {trickle.Length}\r\n", ct);
                            for (var i = 0L; i < trickle.Length; i++)
                            {
                                await Task.Delay(trickle.Interval, ct);
                                await downstream.WriteAsync(new[] { trickle.Fill }, ct);
                                await downstream.FlushAsync(ct);
                            }

                            continue;

                        case FaultAction.EndlessAction endless:
                        {
                            await reader.DrainAsync(request.ContentLength, ct);
                            Record(request, action, endless.Status);
                            await WriteHeadAsync(downstream, endless.Status, endless.Headers, "Connection: close\r\n", ct);
                            await downstream.WriteAsync(Encoding.UTF8.GetBytes(endless.Prefix), ct);
                            var filler = Enumerable.Repeat((byte)'a', 1 << 16).ToArray();
                            while (true)
                            {
                                await downstream.WriteAsync(filler, ct);
                            }
                        }

                        case FaultAction.ResetAction reset:
                        {
                            var bytes = Math.Min(reset.Bytes, request.ContentLength);
                            using var upstream = new TcpClient();
                            if (reset.ToRegistry)
                            {
                                await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, ct);
                                var up = upstream.GetStream();
                                await up.WriteAsync(RewriteHead(head), ct);
                                await reader.CopyBodyAsync(up, bytes, ct);
                                await up.FlushAsync(ct);
                                await Task.Delay(100, ct); // let the registry take in what was sent before the cut
                                upstream.Client.LingerState = new LingerOption(true, 0);
                                upstream.Client.Close();
                            }
                            else
                            {
                                await reader.DrainAsync(bytes, ct);
                            }

                            Record(request, action, 0);
                            client.Client.LingerState = new LingerOption(true, 0);
                            client.Client.Close();
                            return;
                        }

                        default:
                        {
                            using var upstream = new TcpClient();
                            await upstream.ConnectAsync(IPAddress.Loopback, _upstreamPort, ct);
                            var up = upstream.GetStream();
                            await up.WriteAsync(RewriteHead(head), ct);
                            await reader.CopyBodyAsync(up, request.ContentLength, ct);
                            await up.FlushAsync(ct);
                            await PipeResponseAsync(up, downstream, status => Record(request, action, status), ct);
                            return; // the registry answered with Connection: close; so do we
                        }
                    }
                }
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The client or the registry went away; nothing to do for a proxy.
        }
    }

    private void Record(FaultRequest request, FaultAction action, int status)
    {
        lock (_records)
        {
            _records.Add(new FaultRecord(request.Method, request.Target, request.HasAuthorization, request.ContentLength, action, status, DateTimeOffset.UtcNow) { Headers = request.Headers });
        }
    }

    private static FaultRequest Parse(string head)
    {
        var lines = head.Split("\r\n");
        var first = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        if (headers.TryGetValue("Transfer-Encoding", out var te) && te.Contains("chunked", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException("FaultProxy does not handle chunked request bodies");
        }

        var length = headers.TryGetValue("Content-Length", out var cl) ? long.Parse(cl, System.Globalization.CultureInfo.InvariantCulture) : 0;
        return new FaultRequest(first[0], first[1], headers, length);
    }

    // The same head with Connection: close, so the registry closes after its answer and the proxy can just pipe it.
    private static byte[] RewriteHead(string head)
    {
        var lines = head.Split("\r\n").Where(l => !l.StartsWith("Connection:", StringComparison.OrdinalIgnoreCase) && l.Length > 0);
        return Encoding.ASCII.GetBytes(string.Join("\r\n", lines) + "\r\nConnection: close\r\n\r\n");
    }

    // Records the status before the client sees any of the answer, so a test that has its response also has the record.
    private static async Task PipeResponseAsync(NetworkStream upstream, NetworkStream downstream, Action<int> record, CancellationToken ct)
    {
        var buffer = new byte[1 << 16];
        var recorded = false;
        int read;
        while ((read = await upstream.ReadAsync(buffer, ct)) > 0)
        {
            if (!recorded)
            {
                _ = int.TryParse(read >= 12 ? Encoding.ASCII.GetString(buffer, 9, 3) : string.Empty, out var status);
                record(status);
                recorded = true;
            }

            await downstream.WriteAsync(buffer.AsMemory(0, read), ct);
        }

        if (!recorded)
        {
            record(0);
        }

        await downstream.FlushAsync(ct);
    }

    private static async Task WriteResponseAsync(NetworkStream downstream, FaultAction.RespondAction respond, CancellationToken ct)
    {
        var body = respond.Status >= 400
            ? $"{{\"errors\":[{{\"code\":\"UNAVAILABLE\",\"message\":\"injected by FaultProxy ({respond.Status})\"}}]}}"
            : string.Empty;
        var text = new StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"HTTP/1.1 {respond.Status} {ReasonPhrase(respond.Status)}\r\n");
        foreach (var (name, value) in respond.Headers)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        if (body.Length > 0)
        {
            text.Append("Content-Type: application/json\r\n");
        }

        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"Content-Length: {Encoding.UTF8.GetByteCount(body)}\r\n\r\n{body}");
        await downstream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
        await downstream.FlushAsync(ct);
    }

    private static async Task WriteHeadAsync(NetworkStream downstream, int status, (string Name, string Value)[] headers, string extra, CancellationToken ct)
    {
        var text = new StringBuilder();
        text.Append(System.Globalization.CultureInfo.InvariantCulture, $"HTTP/1.1 {status} {ReasonPhrase(status)}\r\n");
        foreach (var (name, value) in headers)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{name}: {value}\r\n");
        }

        text.Append(extra).Append("\r\n");
        await downstream.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), ct);
        await downstream.FlushAsync(ct);
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        202 => "Accepted",
        201 => "Created",
        401 => "Unauthorized",
        307 => "Temporary Redirect",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    };

    /// <summary>Reads heads and bodies from a stream, keeping what it read past a head for the body.</summary>
    private sealed class HeadReader(NetworkStream stream)
    {
        private readonly byte[] _buffer = new byte[1 << 16];
        private int _start;
        private int _end;

        public async Task<string?> ReadHeadAsync(CancellationToken ct)
        {
            while (true)
            {
                var span = _buffer.AsSpan(_start, _end - _start);
                if (span.Length > 0 && (span[0] < (byte)'A' || span[0] > (byte)'Z'))
                {
                    return string.Empty; // a TLS record (0x16) or other non-HTTP bytes
                }

                var at = span.IndexOf("\r\n\r\n"u8);
                if (at >= 0)
                {
                    var head = Encoding.ASCII.GetString(span[..at]);
                    _start += at + 4;
                    return head;
                }

                if (_start > 0)
                {
                    Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                    _end -= _start;
                    _start = 0;
                }

                if (_end == _buffer.Length)
                {
                    throw new IOException("request head too large");
                }

                var read = await stream.ReadAsync(_buffer.AsMemory(_end), ct);
                if (read == 0)
                {
                    return null;
                }

                _end += read;
            }
        }

        public Task DrainAsync(long length, CancellationToken ct) => CopyBodyAsync(Stream.Null, length, ct);

        public async Task CopyBodyAsync(Stream destination, long length, CancellationToken ct)
        {
            while (length > 0)
            {
                if (_start == _end)
                {
                    _start = _end = 0;
                    var read = await stream.ReadAsync(_buffer, ct);
                    if (read == 0)
                    {
                        throw new IOException("the client closed the connection mid-body");
                    }

                    _end = read;
                }

                var take = (int)Math.Min(length, _end - _start);
                await destination.WriteAsync(_buffer.AsMemory(_start, take), ct);
                _start += take;
                length -= take;
            }
        }
    }
}
