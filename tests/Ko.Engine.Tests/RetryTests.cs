using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Tests;

/// <summary>The retry handler against a fake inner handler (no network) with recorded, instant delays.</summary>
public class RetryTests
{
    private static readonly Uri Blob = new("http://registry.test:5000/v2/team/app/blobs/uploads/u1?digest=sha256%3Aabc");

    private static RegistryOptions Options(int attempts = 5, int initialMs = 100, int maxMs = 10_000, ILogger? logger = null, TimeSpan? budget = null) => new()
    {
        MaxAttempts = attempts,
        InitialDelay = TimeSpan.FromMilliseconds(initialMs),
        MaxDelay = TimeSpan.FromMilliseconds(maxMs),
        RetryBudget = budget ?? TimeSpan.FromMinutes(2),
        Logger = logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
    };

    private static (HttpMessageInvoker Invoker, FakeInnerHandler Inner, List<TimeSpan> Delays) Pipeline(RegistryOptions options, double random, params Func<HttpRequestMessage, Task<HttpResponseMessage>>[] answers)
    {
        var delays = new List<TimeSpan>();
        var inner = new FakeInnerHandler(answers);
        var retry = new RetryHandler(options, (d, _) => { delays.Add(d); return Task.CompletedTask; }, () => random) { InnerHandler = inner };
        return (new HttpMessageInvoker(retry), inner, delays);
    }

    private static Func<HttpRequestMessage, Task<HttpResponseMessage>> Status(HttpStatusCode status, Action<HttpResponseMessage>? configure = null) => _ =>
    {
        var response = new HttpResponseMessage(status);
        configure?.Invoke(response);
        return Task.FromResult(response);
    };

    private static Func<HttpRequestMessage, Task<HttpResponseMessage>> Throw(Exception ex) => _ => Task.FromException<HttpResponseMessage>(ex);

    [Fact]
    public async Task A_503_is_retried_with_doubling_backoff_and_then_succeeds()
    {
        var (invoker, inner, delays) = Pipeline(Options(initialMs: 100), 0.999999, Status(HttpStatusCode.ServiceUnavailable), Status(HttpStatusCode.BadGateway), Status(HttpStatusCode.Created));
        using var request = new HttpRequestMessage(HttpMethod.Put, Blob);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(3, inner.Calls);
        Assert.Equal(2, delays.Count);
        Assert.InRange(delays[0].TotalMilliseconds, 99, 100);
        Assert.InRange(delays[1].TotalMilliseconds, 199, 200);
        Assert.True(inner.Responses[0].Disposed && inner.Responses[1].Disposed, "failed responses are disposed");
    }

    [Fact]
    public async Task Jitter_is_full_between_zero_and_the_ceiling_which_stops_at_MaxDelay()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(100), RetryHandler.Ceiling(Options(initialMs: 100, maxMs: 1000), 1));
        Assert.Equal(TimeSpan.FromMilliseconds(800), RetryHandler.Ceiling(Options(initialMs: 100, maxMs: 1000), 4));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), RetryHandler.Ceiling(Options(initialMs: 100, maxMs: 1000), 5));
        Assert.Equal(TimeSpan.FromMilliseconds(1000), RetryHandler.Ceiling(Options(initialMs: 100, maxMs: 1000), 500));

        var (invoker, _, delays) = Pipeline(Options(initialMs: 100), 0.0, Status(HttpStatusCode.InternalServerError), Status(HttpStatusCode.OK));
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(TimeSpan.Zero, Assert.Single(delays));
    }

    [Fact]
    public async Task It_stops_at_MaxAttempts_and_returns_the_last_response()
    {
        var (invoker, inner, delays) = Pipeline(Options(attempts: 3), 0.5, Enumerable.Repeat(Status(HttpStatusCode.ServiceUnavailable), 10).ToArray());
        using var request = new HttpRequestMessage(HttpMethod.Head, Blob);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal(3, inner.Calls);
        Assert.Equal(2, delays.Count);
        Assert.False(inner.Responses[2].Disposed, "the last response goes back to the caller");
    }

    [Fact]
    public async Task Retry_After_in_seconds_is_respected()
    {
        var (invoker, inner, delays) = Pipeline(
            Options(initialMs: 10),
            0.5,
            Status(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(3))),
            Status(HttpStatusCode.OK));
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), Assert.Single(delays));
    }

    [Fact]
    public async Task Retry_After_as_a_date_is_respected_and_capped_by_MaxDelay_and_the_budget()
    {
        var (invoker, _, delays) = Pipeline(
            Options(maxMs: 2000),
            0.5,
            Status(HttpStatusCode.ServiceUnavailable, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(DateTimeOffset.UtcNow.AddHours(1))),
            Status(HttpStatusCode.OK));
        using (var request = new HttpRequestMessage(HttpMethod.Get, Blob))
        using (var response = await invoker.SendAsync(request, CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(TimeSpan.FromSeconds(2), Assert.Single(delays));

        var date = RetryHandler.RetryAfter(
            new HttpResponseMessage { Headers = { RetryAfter = new RetryConditionHeaderValue(new DateTimeOffset(2030, 1, 1, 0, 0, 10, TimeSpan.Zero)) } },
            new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(TimeSpan.FromSeconds(10), date);

        var (budgeted, _, budgetDelays) = Pipeline(
            Options(maxMs: 60_000, budget: TimeSpan.FromSeconds(1)),
            0.5,
            Status(HttpStatusCode.TooManyRequests, r => r.Headers.RetryAfter = new RetryConditionHeaderValue(TimeSpan.FromSeconds(30))),
            Status(HttpStatusCode.OK));
        using (var request = new HttpRequestMessage(HttpMethod.Get, Blob))
        using (var response = await budgeted.SendAsync(request, CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.InRange(Assert.Single(budgetDelays).TotalMilliseconds, 0, 1000);
    }

    [Fact]
    public async Task No_retry_past_the_budget()
    {
        var delays = new List<TimeSpan>();
        var inner = new FakeInnerHandler(Enumerable.Repeat(Status(HttpStatusCode.ServiceUnavailable), 100).ToArray());
        var retry = new RetryHandler(
            Options(attempts: 100, initialMs: 50, maxMs: 50, budget: TimeSpan.FromMilliseconds(300)),
            async (d, ct) => { delays.Add(d); await Task.Delay(d, ct); },
            () => 0.999999)
        { InnerHandler = inner };
        using var invoker = new HttpMessageInvoker(retry);
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        var clock = Stopwatch.StartNew();
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.InRange(clock.Elapsed.TotalMilliseconds, 250, 5000);
        Assert.True(inner.Calls is >= 2 and <= 10, $"calls {inner.Calls}, delays {string.Join(",", delays.Select(d => (int)d.TotalMilliseconds))}, elapsed {clock.ElapsedMilliseconds}");
        Assert.InRange(delays.Sum(d => d.TotalMilliseconds), 0, 300);
    }

    [Theory]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.BadRequest)]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotImplemented)]
    [InlineData(HttpStatusCode.OK)]
    public async Task Other_statuses_are_not_retried(HttpStatusCode status)
    {
        var (invoker, inner, delays) = Pipeline(Options(), 0.5, Status(status), Status(HttpStatusCode.OK));
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal(1, inner.Calls);
        Assert.Empty(delays);
    }

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.GatewayTimeout)]
    public void The_retried_statuses(HttpStatusCode status) => Assert.True(RetryHandler.IsRetryable(status));

    [Fact]
    public async Task A_reopenable_body_is_opened_and_sent_whole_on_every_attempt()
    {
        var payload = Enumerable.Range(0, 200_000).Select(i => (byte)i).ToArray();
        var opened = 0;
        var received = new List<byte[]>();
        async Task<HttpResponseMessage> Read(HttpRequestMessage request, HttpStatusCode status)
        {
            using var body = new MemoryStream();
            await request.Content!.CopyToAsync(body);
            received.Add(body.ToArray());
            return new HttpResponseMessage(status);
        }

        var (invoker, inner, _) = Pipeline(
            Options(),
            0.5,
            r => Read(r, HttpStatusCode.ServiceUnavailable),
            r => Read(r, HttpStatusCode.BadGateway),
            r => Read(r, HttpStatusCode.Created));
        using var request = new HttpRequestMessage(HttpMethod.Put, Blob)
        {
            Content = new ReopenableContent(_ => { Interlocked.Increment(ref opened); return ValueTask.FromResult<Stream>(new MemoryStream(payload)); }, payload.Length),
        };
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(3, opened);
        Assert.Equal(3, received.Count);
        Assert.All(received, r => Assert.Equal(payload, r));
    }

    [Fact]
    public async Task Byte_content_is_sent_again_in_full()
    {
        var received = new List<string>();
        async Task<HttpResponseMessage> Read(HttpRequestMessage request, HttpStatusCode status)
        {
            received.Add(await request.Content!.ReadAsStringAsync());
            return new HttpResponseMessage(status);
        }

        var (invoker, _, _) = Pipeline(Options(), 0.5, r => Read(r, HttpStatusCode.GatewayTimeout), r => Read(r, HttpStatusCode.Created));
        using var request = new HttpRequestMessage(HttpMethod.Put, Blob) { Content = new ReadOnlyMemoryContent("{\"manifest\":1}"u8.ToArray()) };
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(["{\"manifest\":1}", "{\"manifest\":1}"], received);
    }

    [Fact]
    public async Task Connection_errors_are_retried_and_the_last_one_is_rethrown()
    {
        var (invoker, inner, delays) = Pipeline(
            Options(),
            0.5,
            Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused (registry.test:5000)")),
            Throw(new IOException("Connection reset by peer")),
            Status(HttpStatusCode.OK));
        using (var request = new HttpRequestMessage(HttpMethod.Get, Blob))
        using (var response = await invoker.SendAsync(request, CancellationToken.None))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(3, inner.Calls);
            Assert.Equal(2, delays.Count);
        }

        var last = new HttpRequestException(HttpRequestError.ResponseEnded, "the server closed the connection (last)");
        var (failing, failingInner, _) = Pipeline(
            Options(attempts: 3),
            0.5,
            Throw(new HttpRequestException("first")),
            Throw(new HttpRequestException("second")),
            Throw(last));
        using var again = new HttpRequestMessage(HttpMethod.Get, Blob);
        var thrown = await Assert.ThrowsAsync<HttpRequestException>(() => failing.SendAsync(again, CancellationToken.None));
        Assert.Same(last, thrown);
        Assert.Equal(3, failingInner.Calls);
    }

    [Fact]
    public async Task TLS_failures_and_other_exceptions_are_not_retried()
    {
        var (invoker, inner, _) = Pipeline(Options(), 0.5, Throw(new HttpRequestException(HttpRequestError.SecureConnectionError, "The SSL connection could not be established")), Status(HttpStatusCode.OK));
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        await Assert.ThrowsAsync<HttpRequestException>(() => invoker.SendAsync(request, CancellationToken.None));
        Assert.Equal(1, inner.Calls);

        var (other, otherInner, _) = Pipeline(Options(), 0.5, Throw(new KoException(KoErrorCodes.PushFailed, "denied")), Status(HttpStatusCode.OK));
        using var second = new HttpRequestMessage(HttpMethod.Get, Blob);
        await Assert.ThrowsAsync<KoException>(() => other.SendAsync(second, CancellationToken.None));
        Assert.Equal(1, otherInner.Calls);
    }

    [Fact]
    public async Task Cancellation_stops_a_wait_at_once()
    {
        var inner = new FakeInnerHandler(Enumerable.Repeat(Status(HttpStatusCode.ServiceUnavailable), 10).ToArray());
        var retry = new RetryHandler(Options(initialMs: 600_000, maxMs: 600_000), null, () => 0.999999) { InnerHandler = inner };
        using var invoker = new HttpMessageInvoker(retry);
        using var request = new HttpRequestMessage(HttpMethod.Get, Blob);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        var clock = Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => invoker.SendAsync(request, cts.Token));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), clock.Elapsed.ToString());
        Assert.Equal(1, inner.Calls);
    }

    [Fact]
    public async Task Each_attempt_starts_from_the_request_as_the_caller_gave_it()
    {
        var seen = new List<(Uri? Uri, HttpMethod Method, string? Auth, bool HasBody)>();
        Task<HttpResponseMessage> Redirected(HttpRequestMessage request, HttpStatusCode status)
        {
            seen.Add((request.RequestUri, request.Method, request.Headers.Authorization?.ToString(), request.Content is not null));

            // What RedirectHandler does to a request it followed to another host with a 303.
            request.RequestUri = new Uri("http://storage.test:9000/blob");
            request.Headers.Authorization = null;
            request.Method = HttpMethod.Get;
            request.Content = null;
            return Task.FromResult(new HttpResponseMessage(status));
        }

        var (invoker, _, _) = Pipeline(Options(), 0.5, r => Redirected(r, HttpStatusCode.ServiceUnavailable), r => Redirected(r, HttpStatusCode.Created));
        using var request = new HttpRequestMessage(HttpMethod.Put, Blob) { Content = new ByteArrayContent([1, 2, 3]) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "tok");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(2, seen.Count);
        Assert.All(seen, s =>
        {
            Assert.Equal(Blob, s.Uri);
            Assert.Equal(HttpMethod.Put, s.Method);
            Assert.Equal("Bearer tok", s.Auth);
            Assert.True(s.HasBody);
        });
    }

    [Fact]
    public async Task Each_retry_is_logged_at_debug_with_host_method_path_status_and_delay_but_no_headers()
    {
        var logger = new FakeLogger();
        var (invoker, _, _) = Pipeline(
            Options(initialMs: 100, logger: logger),
            0.999999,
            Status(HttpStatusCode.ServiceUnavailable),
            Throw(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused")),
            Status(HttpStatusCode.OK));
        using var request = new HttpRequestMessage(HttpMethod.Put, Blob);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cr3t-token");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(2, logger.Entries.Count);
        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Debug, e.Level));
        var first = logger.Entries[0].Message;
        Assert.Contains("registry.test:5000", first);
        Assert.Contains("PUT", first);
        Assert.Contains("/v2/team/app/blobs/uploads/u1", first);
        Assert.Contains("503", first);
        Assert.Contains("99 ms", first);
        Assert.Contains("Connection refused", logger.Entries[1].Message);
        Assert.All(logger.Entries, e =>
        {
            Assert.DoesNotContain("s3cr3t", e.Message);
            Assert.DoesNotContain("Bearer", e.Message);
            Assert.DoesNotContain("digest=", e.Message);
        });
    }

    [Fact]
    public void The_environment_can_shorten_the_delays_and_set_the_attempts()
    {
        var env = new Dictionary<string, string?> { ["KO_REGISTRY_RETRY_ATTEMPTS"] = "7", ["KO_REGISTRY_RETRY_INITIAL_MS"] = "5" };
        var options = RetryHandler.FromEnvironment(new RegistryOptions { Environment = env });
        Assert.Equal(7, options.MaxAttempts);
        Assert.Equal(TimeSpan.FromMilliseconds(5), options.InitialDelay);

        var untouched = RetryHandler.FromEnvironment(new RegistryOptions { Environment = new Dictionary<string, string?> { ["KO_REGISTRY_RETRY_ATTEMPTS"] = "-1", ["KO_REGISTRY_RETRY_INITIAL_MS"] = "soon" } });
        Assert.Equal(new RegistryOptions().MaxAttempts, untouched.MaxAttempts);
        Assert.Equal(new RegistryOptions().InitialDelay, untouched.InitialDelay);
    }

    [Theory]
    [InlineData(null, 60_000)]
    [InlineData(0L, 60_000)]
    [InlineData(1024L, 60_000)]
    [InlineData(8L * 1024 * 1024 * 1024, 60_000 + 1_024_000)]
    public void A_large_upload_gets_time_for_the_registry_to_commit_it_before_it_answers(long? bodyBytes, long expectedMs)
    {
        var within = Ko.Engine.Registry.TimeoutHandler.ResponseTimeoutFor(TimeSpan.FromSeconds(60), bodyBytes);
        Assert.InRange(within.TotalMilliseconds, expectedMs, expectedMs + 1);
    }

    [Fact]
    public void The_environment_sets_the_connect_response_and_idle_timeouts_and_bad_values_keep_the_defaults()
    {
        var env = new Dictionary<string, string?>
        {
            ["KO_REGISTRY_CONNECT_TIMEOUT_MS"] = "1500",
            ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "2500",
            ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "99999999999",
        };
        var options = RetryHandler.FromEnvironment(new RegistryOptions { Environment = env });
        Assert.Equal(TimeSpan.FromMilliseconds(1500), options.ConnectTimeout);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.ResponseTimeout);
        Assert.Equal(TimeSpan.FromHours(1), options.IdleTimeout);

        var defaults = new RegistryOptions();
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(60)), (defaults.ConnectTimeout, defaults.ResponseTimeout, defaults.IdleTimeout));
        var untouched = RetryHandler.FromEnvironment(new RegistryOptions
        {
            Environment = new Dictionary<string, string?> { ["KO_REGISTRY_CONNECT_TIMEOUT_MS"] = "0", ["KO_REGISTRY_RESPONSE_TIMEOUT_MS"] = "-5", ["KO_REGISTRY_IDLE_TIMEOUT_MS"] = "1m" },
        });
        Assert.Equal((defaults.ConnectTimeout, defaults.ResponseTimeout, defaults.IdleTimeout), (untouched.ConnectTimeout, untouched.ResponseTimeout, untouched.IdleTimeout));
    }

    /// <summary>An inner handler that answers from a script, one entry per call, and records what it returned.</summary>
    private sealed class FakeInnerHandler(Func<HttpRequestMessage, Task<HttpResponseMessage>>[] answers) : HttpMessageHandler
    {
        private int _calls;

        public int Calls => _calls;

        public List<TrackedResponse> Responses { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var index = Interlocked.Increment(ref _calls) - 1;
            Assert.True(index < answers.Length, $"unexpected call {index + 1}");
            var response = await answers[index](request);
            var tracked = new TrackedResponse(response.StatusCode);
            foreach (var header in response.Headers)
            {
                tracked.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            tracked.RequestMessage = request;
            Responses.Add(tracked);
            return tracked;
        }
    }

    private sealed class TrackedResponse(HttpStatusCode status) : HttpResponseMessage(status)
    {
        public bool Disposed { get; private set; }

        protected override void Dispose(bool disposing)
        {
            Disposed = true;
            base.Dispose(disposing);
        }
    }

    private sealed class FakeLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Entries)
            {
                Entries.Add((logLevel, formatter(state, exception)));
            }
        }
    }
}
