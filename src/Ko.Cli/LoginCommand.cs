using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Credentials;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko login REGISTRY -u USER --password-stdin</c> (or <c>-p PASSWORD</c>, with ko's warning): checks the
/// credential against the registry and stores it as <c>docker login</c> does.
/// </summary>
internal static class LoginCommand
{
    private const int MaxPasswordChars = 64 * 1024;

    private static readonly AsyncLocal<TextReader?> InputOverride = new();

    /// <summary>Standard input for <c>--password-stdin</c> (tests set it; otherwise the console's).</summary>
    internal static TextReader? Input
    {
        get => InputOverride.Value;
        set => InputOverride.Value = value;
    }

    public static Command Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var registry = new Argument<string>("REGISTRY") { Description = "The registry to log in to, e.g. registry.example.com or localhost:5000." };
        var username = new Option<string?>("--username", "-u") { Description = "The user name." };
        var password = new Option<string?>("--password", "-p") { Description = "The password (insecure: it shows in the process list and shell history; prefer --password-stdin)." };
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the password from standard input." };
        var insecure = new Option<bool>("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };

        var cmd = new Command("login", "Log in to a registry; the credential is stored like docker login stores it.");
        cmd.Arguments.Add(registry);
        cmd.Options.Add(username);
        cmd.Options.Add(password);
        cmd.Options.Add(passwordStdin);
        cmd.Options.Add(insecure);
        cmd.Validators.Add(r =>
        {
            // On the tokens: GetValue throws when a value is missing (-p at the end), which the parser reports.
            if (r.GetResult(password) is not null && r.GetValue(passwordStdin))
            {
                r.AddError("--password and --password-stdin are mutually exclusive.");
            }

            var user = r.GetResult(username);
            if (user is null || (user.Tokens.Count > 0 && string.IsNullOrEmpty(user.Tokens[^1].Value)))
            {
                r.AddError("--username (-u) is required.");
            }
        });

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var logger = new StderrLogger(error, r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            var secret = r.GetValue(password);
            if (secret is not null)
            {
                await error.WriteLineAsync("WARNING! Using --password via the CLI is insecure. Use --password-stdin.").ConfigureAwait(false);
            }
            else if (r.GetValue(passwordStdin))
            {
                secret = (await ReadPasswordAsync(Input ?? Console.In, ct).ConfigureAwait(false)).TrimEnd('\n', '\r');
            }

            if (string.IsNullOrEmpty(secret))
            {
                throw new KoException(KoErrorCodes.InvalidOption, "no password given: pass it on standard input with --password-stdin (or with -p).");
            }

            var options = new KoLoginOptions { Registry = r.GetValue(registry)!, Username = r.GetValue(username)!, Password = secret, InsecureRegistry = r.GetValue(insecure), Environment = environment };
            var storedIn = await new KoEngine(logger).LoginAsync(options, ct).ConfigureAwait(false);
            logger.LogDebug("Stored the credential in {Where}", storedIn);
            await output.WriteLineAsync("Login Succeeded").ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }

    // Bounded: `--password-stdin < /dev/zero` (or a pipe that never closes) must not grow until the process dies.
    private static async Task<string> ReadPasswordAsync(TextReader input, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        var chunk = new char[4096];
        int n;
        while ((n = await input.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (text.Length + n > MaxPasswordChars)
            {
                throw new KoException(KoErrorCodes.InvalidOption, $"standard input holds more than {MaxPasswordChars / 1024} KiB; --password-stdin reads one password or token. Pipe only the password.");
            }

            text.Append(chunk, 0, n);
        }

        return text.ToString();
    }
}
