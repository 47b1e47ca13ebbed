using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.Registry.Credentials;

/// <summary>
/// Credentials as docker and podman keep them, looked up in this order: docker's config.json
/// (<c>$DOCKER_CONFIG/config.json</c>, else <c>~/.docker/config.json</c>) — its <c>credHelpers</c> entry for the
/// host, else its <c>credsStore</c>, else its <c>auths</c> entry — then <c>REGISTRY_AUTH_FILE</c>, then podman's
/// <c>$XDG_RUNTIME_DIR/containers/auth.json</c> and <c>~/.config/containers/auth.json</c>. Everything (HOME, PATH for
/// helpers) comes from the run's environment, not the process's. One lookup per host per run.
/// </summary>
internal sealed class DockerCredentials(IReadOnlyDictionary<string, string?> environment, ILogger? logger = null) : ICredentialProvider
{
    private readonly ConcurrentDictionary<string, Lazy<Task<RegistryCredential?>>> _cache = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The directory docker's config.json lives in: <c>DOCKER_CONFIG</c>, else <c>$HOME/.docker</c>.</summary>
    public static string? ConfigDirectory(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("DOCKER_CONFIG", out var dir) && !string.IsNullOrEmpty(dir))
        {
            return dir;
        }

        return Home(environment) is { } home ? Path.Combine(home, ".docker") : null;
    }

    /// <summary>The server name docker hands credential helpers for a host (docker.io's is its v1 URL).</summary>
    public static string HelperServer(string host) =>
        DockerConfig.NormalizeKey(host) == "index.docker.io" ? "https://index.docker.io/v1/" : host;

    public ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken cancellationToken)
    {
        var lazy = _cache.GetOrAdd(registryHost, h => new Lazy<Task<RegistryCredential?>>(() => LookupAsync(h, cancellationToken)));
        var task = lazy.Value;
        if (task.IsFaulted || task.IsCanceled)
        {
            _cache.TryRemove(new KeyValuePair<string, Lazy<Task<RegistryCredential?>>>(registryHost, lazy));
        }

        return new ValueTask<RegistryCredential?>(task);
    }

    private async Task<RegistryCredential?> LookupAsync(string host, CancellationToken cancellationToken)
    {
        if (ConfigDirectory(environment) is { } dir && Read(Path.Combine(dir, "config.json")) is { } docker)
        {
            var helper = docker.Config.HelperFor(host) ?? docker.Config.CredsStore;
            if (helper is not null)
            {
                var fromHelper = await CredentialHelper.GetAsync(helper, HelperServer(host), environment, cancellationToken).ConfigureAwait(false);
                if (fromHelper is not null)
                {
                    _logger.LogDebug("Using credentials for {Host} from credential helper docker-credential-{Helper}", host, helper);
                    return fromHelper;
                }
            }

            if (docker.Config.AuthFor(host) is { } credential)
            {
                _logger.LogDebug("Using credentials for {Host} from {Path}", host, docker.Path);
                return credential;
            }
        }

        foreach (var path in PodmanAuthFiles())
        {
            if (Read(path) is { } file && file.Config.AuthFor(host) is { } credential)
            {
                _logger.LogDebug("Using credentials for {Host} from {Path}", host, file.Path);
                return credential;
            }
        }

        _logger.LogDebug("No credentials for {Host}; going anonymous", host);
        return null;
    }

    private IEnumerable<string> PodmanAuthFiles()
    {
        if (environment.TryGetValue("REGISTRY_AUTH_FILE", out var file) && !string.IsNullOrEmpty(file))
        {
            yield return file;
        }

        if (environment.TryGetValue("XDG_RUNTIME_DIR", out var runtime) && !string.IsNullOrEmpty(runtime))
        {
            yield return Path.Combine(runtime, "containers", "auth.json");
        }

        if (Home(environment) is { } home)
        {
            yield return Path.Combine(home, ".config", "containers", "auth.json");
        }
    }

    private const long MaxConfigBytes = 4L << 20;

    private static (DockerConfig Config, string Path)? Read(string path) =>
        ReadText(path) is { } text ? (DockerConfig.Parse(text, path), path) : null;

    /// <summary>
    /// The text of a credentials file (config.json, auth.json), or null when there is none. Only a regular file of at
    /// most 4 MiB is read: a FIFO would block its opener for ever and a link to /dev/zero would never end.
    /// </summary>
    internal static string? ReadText(string path)
    {
        try
        {
            // A regular file of bounded size: a FIFO blocks its opener for ever, a link to /dev/zero never ends.
            var kind = Util.UnixFileStatus.KindOf(path, followLinks: true);
            if (kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
            {
                throw new KoException(KoErrorCodes.AuthenticationFailed, $"the credentials file {path} is {Util.UnixFileStatus.Describe(kind)}, not a regular file; replace or remove it.");
            }

            if (kind == Util.FileKind.Regular && new FileInfo(path).Length > MaxConfigBytes)
            {
                throw new KoException(KoErrorCodes.AuthenticationFailed, $"the credentials file {path} is larger than {MaxConfigBytes >> 20} MiB, far more than credentials need; replace or remove it.");
            }

            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"cannot read the credentials file {path}: {Util.SystemMessage.Of(ex)}", ex);
        }
    }

    private static string? Home(IReadOnlyDictionary<string, string?> environment) =>
        environment.TryGetValue("HOME", out var home) && !string.IsNullOrEmpty(home) ? home : null;
}
