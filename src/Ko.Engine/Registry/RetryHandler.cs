using System.Diagnostics;
using System.Net;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Registry;

/// <summary>
/// Retries 408/429/500/502/503/504 responses and I/O failures (refused, reset, closed mid-body) with exponential
/// backoff and full jitter, honouring <c>Retry-After</c>, bounded by <see cref="RegistryOptions.MaxAttempts"/> and
/// <see cref="RegistryOptions.RetryBudget"/>. It is the outermost handler of the per-host pipeline, so every try is
/// a fresh pass through authentication and redirects: the request's URI, method, body and <c>Authorization</c> are
/// put back as the caller gave them (a redirect may have changed them), and the body is sent again from the start
/// (<see cref="ReopenableContent"/> re-opens its stream; byte contents re-serialise). When the attempts or the
/// budget run out, the last response is returned (so the caller's error names its status) or the last exception
/// is rethrown. Cancellation stops a wait at once.
/// </summary>
internal sealed class RetryHandler : DelegatingHandler
{
    private readonly Func<TimeSpan, CancellationToken, Task> _delay;
    private readonly Func<double> _random;

    public RetryHandler(RegistryOptions options)
        : this(options, null, null)
    {
    }

    /// <summary>For tests: <paramref name="delay"/> replaces <see cref="Task.Delay(TimeSpan, CancellationToken)"/>
    /// and <paramref name="random"/> (a number in [0, 1)) replaces the jitter source.</summary>
    internal RetryHandler(RegistryOptions options, Func<TimeSpan, CancellationToken, Task>? delay, Func<double>? random)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options;
        _delay = delay ?? Task.Delay;
        _random = random ?? Random.Shared.NextDouble;
    }

    internal RegistryOptions Options { get; }

    /// <summary>
    /// <paramref name="options"/> with the settings the environment overrides: <c>KO_REGISTRY_RETRY_ATTEMPTS</c>
    /// (attempts per request, first try included), <c>KO_REGISTRY_RETRY_INITIAL_MS</c> (the first retry's delay in
    /// milliseconds), and the timeouts <c>KO_REGISTRY_CONNECT_TIMEOUT_MS</c>, <c>KO_REGISTRY_RESPONSE_TIMEOUT_MS</c> and
    /// <c>KO_REGISTRY_IDLE_TIMEOUT_MS</c> (milliseconds, 1 to 3,600,000). Values that are not non-negative integers
    /// (or a timeout of 0) are ignored.
    /// </summary>
    internal static RegistryOptions FromEnvironment(RegistryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Number(options.Environment, "KO_REGISTRY_RETRY_ATTEMPTS") is { } attempts && attempts > 0)
        {
            options = options with { MaxAttempts = (int)Math.Min(attempts, 100) };
        }

        if (Number(options.Environment, "KO_REGISTRY_RETRY_INITIAL_MS") is { } initial)
        {
            options = options with { InitialDelay = TimeSpan.FromMilliseconds(Math.Min(initial, 600_000)) };
        }

        if (Timeout(options.Environment, RegistryOptions.ConnectTimeoutVariable) is { } connect)
        {
            options = options with { ConnectTimeout = connect };
        }

        if (Timeout(options.Environment, RegistryOptions.ResponseTimeoutVariable) is { } response)
        {
            options = options with { ResponseTimeout = response };
        }

        if (Timeout(options.Environment, RegistryOptions.IdleTimeoutVariable) is { } idle)
        {
            options = options with { IdleTimeout = idle };
        }

        return options;

        static TimeSpan? Timeout(IReadOnlyDictionary<string, string?> env, string name) =>
            Number(env, name) is { } ms && ms > 0 ? TimeSpan.FromMilliseconds(Math.Min(ms, 3_600_000)) : null;

        static long? Number(IReadOnlyDictionary<string, string?> env, string name) =>
            env.TryGetValue(name, out var text) && long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
    }

    /// <summary>True for the statuses worth another try: 408, 429, 500, 502, 503, 504.</summary>
    internal static bool IsRetryable(HttpStatusCode status) =>
        status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>
    /// The backoff ceiling before retry number <paramref name="retry"/> (1 for the first retry):
    /// <c>InitialDelay * 2^(retry-1)</c>, at most <c>MaxDelay</c>.
    /// </summary>
    internal static TimeSpan Ceiling(RegistryOptions options, int retry)
    {
        var initial = Math.Max(0, options.InitialDelay.TotalMilliseconds);
        var max = Math.Max(0, options.MaxDelay.TotalMilliseconds);
        var ceiling = initial * Math.Pow(2, Math.Min(retry - 1, 30));
        return TimeSpan.FromMilliseconds(Math.Min(ceiling, max));
    }

    /// <summary>The wait a <c>Retry-After</c> header asks for (seconds or an HTTP date), or null.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage response, DateTimeOffset now)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - now;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var clock = Stopwatch.StartNew();
        var maxAttempts = Math.Max(1, Options.MaxAttempts);
        var uri = request.RequestUri;
        var method = request.Method;
        var content = request.Content;
        var authorization = request.Headers.Authorization;
        var lastTry = false;

        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1)
            {
                // A fresh attempt: as the caller sent it, whatever redirects did to the last one.
                request.RequestUri = uri;
                request.Method = method;
                request.Content = content;
                request.Headers.Authorization = authorization;
            }

            HttpResponseMessage? response = null;
            ExceptionDispatchInfo? error = null;
            try
            {
                response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex, cancellationToken))
            {
                error = ExceptionDispatchInfo.Capture(ex);
            }

            if (response is not null && !IsRetryable(response.StatusCode))
            {
                return response;
            }

            var remaining = Options.RetryBudget - clock.Elapsed;
            if (attempt >= maxAttempts || remaining <= TimeSpan.Zero || lastTry)
            {
                return GiveUp(response, error, attempt);
            }

            var wait = TimeSpan.FromMilliseconds(Ceiling(Options, attempt).TotalMilliseconds * _random());
            if (response is not null && RetryAfter(response, DateTimeOffset.UtcNow) is { } asked)
            {
                wait = asked < Options.MaxDelay ? asked : Options.MaxDelay;
            }

            if (wait > remaining)
            {
                // Wait out what is left of the budget for one last try, then stop: timers end a little early, and
                // clamping every later wait to the sliver left would become a burst of immediate retries.
                wait = remaining;
                lastTry = true;
            }

            Options.Logger.LogRetry(
                request.RequestUri?.Authority,
                method.Method,
                request.RequestUri?.AbsolutePath,
                response is not null ? ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture) : Describe(error!.SourceException),
                (long)wait.TotalMilliseconds,
                attempt + 1);
            response?.Dispose();
            await _delay(wait, cancellationToken).ConfigureAwait(false);
        }
    }

    private static HttpResponseMessage GiveUp(HttpResponseMessage? response, ExceptionDispatchInfo? error, int attempts)
    {
        if (response is not null)
        {
            return response;
        }

        if (error!.SourceException is RegistryTimeoutException timeout && attempts > 1)
        {
            throw new RegistryTimeoutException($"{timeout.Message} (tried {attempts} times)", timeout);
        }

        error!.Throw();
        throw new UnreachableException();
    }

    private static bool IsTransient(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        // The caller's own cancellation is never retried; a timeout inside the stack is.
        OperationCanceledException => !cancellationToken.IsCancellationRequested,
        RegistryTimeoutException => true,
        HttpRequestException http => http.HttpRequestError is not (HttpRequestError.SecureConnectionError or HttpRequestError.UserAuthenticationError or HttpRequestError.ConfigurationLimitExceeded),
        IOException => true,
        _ => false,
    };

    // The exception's kind, what went wrong in our words, and the runtime's own text for a debug log (that text never
    // carries headers).
    private static string Describe(Exception ex) => $"{ex.GetType().Name}: {NetworkErrors.Describe(ex)} ({ex.Message})";
}

internal static class RetryLog
{
    private static readonly Action<ILogger, string?, string, string?, string, long, int, Exception?> Retry =
        LoggerMessage.Define<string?, string, string?, string, long, int>(
            LogLevel.Debug,
            new EventId(3100, "RegistryRetry"),
            "{Host}: {Method} {Path} got {Outcome}; retrying in {DelayMs} ms (attempt {Attempt})");

    public static void LogRetry(this ILogger logger, string? host, string method, string? path, string outcome, long delayMs, int nextAttempt) =>
        Retry(logger, host, method, path, outcome, delayMs, nextAttempt, null);
}
