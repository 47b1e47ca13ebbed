using System.Text;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;

namespace Ko.Engine.Registry.Credentials;

/// <summary>
/// docker's credential helper protocol: <c>docker-credential-NAME get</c> reads the server on standard input and
/// writes <c>{"ServerURL","Username","Secret"}</c>; <c>store</c> reads that JSON. A <c>Username</c> of
/// <c>&lt;token&gt;</c> means the secret is an identity token. The helper is found on the run's <c>PATH</c>.
/// </summary>
internal static class CredentialHelper
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The full path of <c>docker-credential-NAME</c> on the environment's PATH, or null.</summary>
    public static string? Locate(string name, IReadOnlyDictionary<string, string?> environment)
    {
        var file = "docker-credential-" + name;
        var path = environment.TryGetValue("PATH", out var p) ? p ?? string.Empty : string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, file);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Asks the helper for <paramref name="server"/>'s credential; null when it has none.</summary>
    public static async Task<RegistryCredential?> GetAsync(string name, string server, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var result = await RunAsync(name, "get", server + "\n", environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            // "credentials not found in native keychain" and the like: no credential, not an error.
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(result.StandardOutput);
            var root = doc.RootElement;
            var user = root.TryGetProperty("Username", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
            var secret = root.TryGetProperty("Secret", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (string.IsNullOrEmpty(secret))
            {
                return null;
            }

            return user == "<token>" ? new RegistryCredential(user, null, secret) : new RegistryCredential(user, secret);
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} answered 'get' for {server} with something that is not JSON; check the helper.", ex);
        }
    }

    /// <summary>Stores a credential through the helper's <c>store</c> command.</summary>
    public static async Task StoreAsync(string name, string server, string username, string secret, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string> { ["ServerURL"] = server, ["Username"] = username, ["Secret"] = secret });
        var result = await RunAsync(name, "store", json, environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} failed to store the credential for {server} (exit {result.ExitCode}): {Redact(result.StandardOutput + result.StandardError, secret)}");
        }
    }

    private static string Redact(string text, string secret) => (secret.Length > 0 ? text.Replace(secret, "***", StringComparison.Ordinal) : text).Trim();

    private static async Task<BufferedCommandResult> RunAsync(string name, string verb, string input, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var path = Locate(name, environment)
            ?? throw new KoException(KoErrorCodes.AuthenticationFailed, $"the docker config names the credential helper '{name}', but docker-credential-{name} is not on PATH; install it or remove it from config.json.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            return await Cli.Wrap(path)
                .WithArguments([verb])
                .WithEnvironmentVariables(Util.ChildProcesses.ExactEnvironment(environment))
                .WithStandardInputPipe(PipeSource.FromString(input, Encoding.UTF8))
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(Encoding.UTF8, Encoding.UTF8, timeout.Token)
                .ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} did not answer '{verb}' within {Timeout.TotalSeconds:0} s.", ex);
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} could not be started: {ex.Message}.", ex);
        }
    }
}
