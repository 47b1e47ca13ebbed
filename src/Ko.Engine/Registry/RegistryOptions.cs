using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.Registry;

/// <summary>A credential for one registry, as docker's config.json or a credential helper gives it.</summary>
/// <param name="Username">The user name (for Basic, and for the token flow's GET).</param>
/// <param name="Password">The password or personal token.</param>
/// <param name="IdentityToken">An OAuth2 refresh token (docker's <c>identitytoken</c>), used with the token flow's POST.</param>
internal sealed record RegistryCredential(string? Username, string? Password, string? IdentityToken = null)
{
    /// <summary>Never prints the secret parts.</summary>
    public override string ToString() => $"RegistryCredential {{ Username = {Username}, Password = {(Password is null ? "null" : "***")}, IdentityToken = {(IdentityToken is null ? "null" : "***")} }}";
}

/// <summary>Finds the credential for a registry host; null means anonymous.</summary>
internal interface ICredentialProvider
{
    ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken cancellationToken);
}

/// <summary>Anonymous access everywhere.</summary>
internal sealed class AnonymousCredentials : ICredentialProvider
{
    public static readonly AnonymousCredentials Instance = new();

    public ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken cancellationToken) => ValueTask.FromResult<RegistryCredential?>(null);
}

/// <summary>Everything the registry pipeline needs to know about the run.</summary>
internal sealed record RegistryOptions
{
    /// <summary>Plain HTTP (and no TLS verification) for every registry, as ko's <c>--insecure-registry</c>.</summary>
    public bool Insecure { get; init; }

    /// <summary>The environment (DOCKER_CONFIG, REGISTRY_AUTH_FILE, HOME, SSL_CERT_FILE, PATH for credential helpers).</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    public ICredentialProvider Credentials { get; init; } = AnonymousCredentials.Instance;

    public ILogger Logger { get; init; } = NullLogger.Instance;

    public IProgress<KoProgress>? Progress { get; init; }

    /// <summary>Attempts per request (first try included) for 408/429/5xx and I/O errors.</summary>
    public int MaxAttempts { get; init; } = 5;

    /// <summary>The first retry's delay; each later one doubles, with jitter, up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan InitialDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>No request keeps retrying past this much time in all.</summary>
    public TimeSpan RetryBudget { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>Establishing a connection (TCP and TLS) may take this long (<c>KO_REGISTRY_CONNECT_TIMEOUT_MS</c>).</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// From the end of a request to the response's headers, and for the whole of a small body read into memory
    /// (manifests, tokens, tag lists, error texts), at most this long (<c>KO_REGISTRY_RESPONSE_TIMEOUT_MS</c>).
    /// </summary>
    public TimeSpan ResponseTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The longest silence while a body streams either way (a blob download or upload), between two reads or writes
    /// (<c>KO_REGISTRY_IDLE_TIMEOUT_MS</c>). Large blobs have no total limit, only this one.
    /// </summary>
    public TimeSpan IdleTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Names of the variables that set the timeouts.</summary>
    internal const string ConnectTimeoutVariable = "KO_REGISTRY_CONNECT_TIMEOUT_MS";

    internal const string ResponseTimeoutVariable = "KO_REGISTRY_RESPONSE_TIMEOUT_MS";

    internal const string IdleTimeoutVariable = "KO_REGISTRY_IDLE_TIMEOUT_MS";
}
