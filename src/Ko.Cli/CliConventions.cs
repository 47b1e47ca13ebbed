using System.CommandLine;

namespace Ko.Cli;

/// <summary>
/// How <c>dotnet ko</c> reads a command line where ko's (cobra/pflag) conventions differ from System.CommandLine's:
/// <c>help COMMAND</c>, Go's boolean values (<c>--push=0</c>, <c>--push=F</c>), a bad boolean value as a flag error,
/// and the nearest flag suggested for an unknown one.
/// </summary>
internal static class CliConventions
{
    private static readonly string[] GoTrue = ["1", "t", "T", "TRUE", "true", "True"];
    private static readonly string[] GoFalse = ["0", "f", "F", "FALSE", "false", "False"];

    /// <summary><c>help</c> alone is <c>--help</c>; <c>help build</c> is <c>build --help</c> (cobra's help command).</summary>
    public static string[] RewriteHelp(string[] args) =>
        args.Length > 0 && args[0] == "help" ? [.. args[1..], "--help"] : args;

    /// <summary>
    /// Rewrites <c>--flag=VALUE</c> of a boolean flag to true/false as Go's strconv.ParseBool reads VALUE (ko's
    /// flags are pflag booleans); a VALUE it does not accept is returned as an error sentence. Nothing after
    /// <c>--</c> is touched (those arguments are kubectl's).
    /// </summary>
    public static (string[] Args, string? Error) NormalizeBooleans(string[] args, Command root)
    {
        var booleans = new HashSet<string>(StringComparer.Ordinal);
        foreach (var option in AllOptions(root).OfType<Option<bool>>())
        {
            booleans.Add(option.Name);
            foreach (var alias in option.Aliases)
            {
                booleans.Add(alias);
            }
        }

        var result = (string[])args.Clone();
        for (var i = 0; i < result.Length && result[i] != "--"; i++)
        {
            var eq = result[i].IndexOf('=', StringComparison.Ordinal);
            if (!result[i].StartsWith('-') || eq < 0 || !booleans.Contains(result[i][..eq]))
            {
                continue;
            }

            var (name, value) = (result[i][..eq], result[i][(eq + 1)..]);
            if (GoTrue.Contains(value, StringComparer.Ordinal))
            {
                result[i] = name + "=true";
            }
            else if (GoFalse.Contains(value, StringComparer.Ordinal))
            {
                result[i] = name + "=false";
            }
            else
            {
                return (args, $"invalid value '{value}' for {name}: write {name}=true or {name}=false (ko reads it as Go's strconv.ParseBool: 1, t, true, 0, f, false).");
            }
        }

        return (result, null);
    }

    /// <summary>The parse error as ko's <c>Error: KOnnnn:</c> line, with the nearest flag when it names an unknown one.</summary>
    public static string Describe(string message, Command command)
    {
        // One line per error: a message that lists choices over several lines is joined into one.
        var text = string.Join(' ', message.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        var unknown = text.Split(' ', '\'', '"', ':').FirstOrDefault(t => t.StartsWith('-') && t.Length > 1 && t != "--");
        if (unknown is not null && Nearest(unknown.Split('=')[0], command) is { } near)
        {
            text = text.TrimEnd('.') + $"; did you mean {near}?";
        }

        return text;
    }

    /// <summary>The flag of <paramref name="command"/> (or a recursive one above it) closest to <paramref name="flag"/>, when close.</summary>
    internal static string? Nearest(string flag, Command command)
    {
        var names = command.Options.Concat(command.Parents.OfType<Command>().SelectMany(p => p.Options.Where(o => o.Recursive)))
            .SelectMany(o => o.Aliases.Append(o.Name)).Where(n => n.StartsWith("--", StringComparison.Ordinal)).Distinct().ToList();
        var bare = flag.TrimStart('-');
        return names
            .Select(n => (Name: n, Distance: Levenshtein(bare, n.TrimStart('-'))))
            .Where(c => c.Distance <= Math.Max(1, bare.Length / 3))
            .OrderBy(c => c.Distance).ThenBy(c => c.Name, StringComparer.Ordinal)
            .Select(c => c.Name).FirstOrDefault();
    }

    private static IEnumerable<Option> AllOptions(Command command) =>
        command.Options.Concat(command.Subcommands.SelectMany(AllOptions));

    private static int Levenshtein(string a, string b)
    {
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var current = new int[b.Length + 1];
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }

            previous = current;
        }

        return previous[b.Length];
    }
}
