using System.Text;
using Ko.Engine.Configuration;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Credentials;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>What the signing commands share: the key password (<c>KO_SIGN_PASSWORD</c>, else a prompt on a terminal) and the registry options.</summary>
internal static class SigningInput
{
    public const string PasswordVariable = "KO_SIGN_PASSWORD";
    public const string KeyVariable = "KO_SIGN_KEY";
    private const int MaxPasswordChars = 4096;

    private static readonly AsyncLocal<Func<string, string?>?> PromptOverride = new();

    /// <summary>Replaces the terminal prompt (tests); null restores it.</summary>
    internal static Func<string, string?>? Prompt
    {
        get => PromptOverride.Value;
        set => PromptOverride.Value = value;
    }

    /// <summary>
    /// The password source: <c>KO_SIGN_PASSWORD</c> when set (an empty value is an empty password), else a prompt on the
    /// terminal (asked twice when <paramref name="confirm"/>), else null (no password can be had).
    /// </summary>
    public static Func<CancellationToken, ValueTask<string?>> Password(IReadOnlyDictionary<string, string?> environment, TextWriter error, bool confirm) => _ =>
    {
        if (environment.TryGetValue(PasswordVariable, out var fromEnv) && fromEnv is not null)
        {
            return ValueTask.FromResult<string?>(fromEnv);
        }

        var prompt = Prompt ?? (Console.IsInputRedirected ? null : TerminalPrompt(error));
        if (prompt is null)
        {
            return ValueTask.FromResult<string?>(null);
        }

        var first = prompt("Enter password for private key: ");
        if (first is not null && confirm && prompt("Enter password for private key again: ") != first)
        {
            throw new Ko.Engine.KoException(Ko.Engine.KoErrorCodes.SigningKeyPassword, "the two passwords differ; run again and type the same password twice.");
        }

        return ValueTask.FromResult(first);
    };

    /// <summary>The registry options for the signing commands: docker's credentials, the retry and timeout variables.</summary>
    public static RegistryOptions Registry(IReadOnlyDictionary<string, string?> environment, bool insecure, ILogger logger) =>
        Ko.Engine.Pipeline.BuildRun.RegistryOptionsFor(insecure, environment, logger, null);

    public static IReadOnlyDictionary<string, string?> Environment(IReadOnlyDictionary<string, string?>? environment) =>
        environment ?? BuildPlan.ProcessEnvironment();

    /// <summary><c>key=value</c> pairs (repeatable, comma separated); a value that is not one is reported by the caller's validator.</summary>
    public static Dictionary<string, string> KeyValues(string[]? values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new Ko.Engine.KoException(Ko.Engine.KoErrorCodes.InvalidSignAnnotation, $"--sign-annotation '{Ko.Engine.Signing.SigningKey.Printable(kv)}' is not key=value.");
            }

            result[kv[..eq]] = kv[(eq + 1)..];
        }

        return result;
    }

    /// <summary>Reads a password from the terminal without echo; the typed text is never written anywhere.</summary>
    private static Func<string, string?> TerminalPrompt(TextWriter error) => text =>
    {
        error.Write(text);
        error.Flush();
        var password = new StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter)
            {
                break;
            }

            if (key.Key == ConsoleKey.Backspace)
            {
                if (password.Length > 0)
                {
                    password.Length--;
                }
            }
            else if (!char.IsControl(key.KeyChar) && password.Length < MaxPasswordChars)
            {
                password.Append(key.KeyChar);
            }
        }

        error.WriteLine();
        return password.ToString();
    };
}
