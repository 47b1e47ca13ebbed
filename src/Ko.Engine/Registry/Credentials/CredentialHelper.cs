using System.Text.Json;
using Ko.Engine.Tools;
using Ko.Engine.Util;

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
    /// <exception cref="KoException">The name is not a helper name (a path, <c>..</c>, a flag, a control character).</exception>
    public static string? Locate(string name, IReadOnlyDictionary<string, string?> environment)
    {
        CheckName(name);
        return ExternalProgram.FindOnPath("docker-credential-" + name, environment);
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
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} answered 'get' for {server} with JSON that is not an object; check the helper.");
            }

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
        // Written by hand (no reflection-based serializer): the tool is also compiled ahead of time.
        var json = System.Text.Encoding.UTF8.GetString(Oci.OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("ServerURL", server);
            w.WriteString("Username", username);
            w.WriteString("Secret", secret);
            w.WriteEndObject();
        }));
        var result = await RunAsync(name, "store", json, environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} failed to store the credential for {server} (exit {result.ExitCode}): {Redact(result.StandardOutput + result.StandardError, secret)}");
        }
    }

    /// <summary>
    /// A helper name from config.json (written by whoever controls that file) names a program on PATH, never a path:
    /// letters, digits, '.', '_' and '-', starting with a letter or digit, and no "..".
    /// </summary>
    private static void CheckName(string name)
    {
        var ok = name.Length is > 0 and <= 100 && char.IsAsciiLetterOrDigit(name[0]) && !name.Contains("..", StringComparison.Ordinal)
            && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
        if (!ok)
        {
            var shown = string.Concat(name.Take(100).Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"the docker config names the credential helper '{shown}', which is not a credential helper name: only docker-credential-NAME programs on PATH are run, where NAME has letters, digits, '.', '_' and '-' (no '/' or '..'). Fix credsStore or credHelpers in config.json.");
        }
    }

    private static string Redact(string text, string secret) => (secret.Length > 0 ? text.Replace(secret, "***", StringComparison.Ordinal) : text).Trim();

    private static async Task<ProgramResult> RunAsync(string name, string verb, string input, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var path = Locate(name, environment)
            ?? throw new KoException(KoErrorCodes.AuthenticationFailed, $"the docker config names the credential helper '{name}', but docker-credential-{name} is not on PATH; install it or remove it from config.json.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Timeout);
        try
        {
            // A credential is a few hundred bytes; a helper that writes megabytes is broken.
            var start = new ProgramStart($"docker-credential-{name}", path, [verb], ChildProcesses.ExactEnvironment(environment), KoErrorCodes.AuthenticationFailed, "Check that the credential helper is installed and executable, or remove it from config.json.")
            {
                StandardInput = input,
                MaxOutputBytes = 1 << 20,
                MaxErrorBytes = 64 << 10,
            };
            return await ExternalProgram.RunAsync(start, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"credential helper docker-credential-{name} did not answer '{verb}' within {Timeout.TotalSeconds:0} s.", ex);
        }
    }
}
