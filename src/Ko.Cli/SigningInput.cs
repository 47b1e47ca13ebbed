using System.Text;
using Ko.Engine;

namespace Ko.Cli;

/// <summary>What the signing commands share: the password prompt on a terminal (the engine reads <c>KO_SIGN_PASSWORD</c> first) and <c>--sign-annotation</c> parsing.</summary>
internal static class SigningInput
{
    private const int MaxPasswordChars = 4096;

    private static readonly AsyncLocal<Func<string, string?>?> PromptOverride = new();

    /// <summary>Replaces the terminal prompt (tests); null restores it.</summary>
    internal static Func<string, string?>? Prompt
    {
        get => PromptOverride.Value;
        set => PromptOverride.Value = value;
    }

    /// <summary>
    /// The CLI's password source when <c>KO_SIGN_PASSWORD</c> is not set (the engine reads that first): a prompt on
    /// the terminal (asked twice when <paramref name="confirm"/>), else null (no password can be had).
    /// </summary>
    public static Func<CancellationToken, ValueTask<string?>> Prompted(TextWriter error, bool confirm) => _ =>
    {
        var prompt = Prompt ?? (Console.IsInputRedirected ? null : TerminalPrompt(error));
        if (prompt is null)
        {
            return ValueTask.FromResult<string?>(null);
        }

        var first = prompt("Enter password for private key: ");
        if (first is not null && confirm && prompt("Enter password for private key again: ") != first)
        {
            throw new KoException(KoErrorCodes.SigningKeyPassword, "the two passwords differ; run again and type the same password twice.");
        }

        return ValueTask.FromResult(first);
    };

    /// <summary><c>key=value</c> pairs (repeatable, comma separated); a value that is not one is reported by the caller's validator.</summary>
    public static Dictionary<string, string> KeyValues(string[]? values)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            var eq = kv.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new KoException(KoErrorCodes.InvalidSignAnnotation, $"--sign-annotation '{Printable(kv)}' is not key=value.");
            }

            result[kv[..eq]] = kv[(eq + 1)..];
        }

        return result;
    }

    /// <summary>An argument safe to quote in one line: control characters removed, at most 40 characters.</summary>
    private static string Printable(string text)
    {
        var clean = new string(text.Where(c => !char.IsControl(c)).Take(40).ToArray());
        return text.Length > 40 ? clean + "…" : clean;
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
