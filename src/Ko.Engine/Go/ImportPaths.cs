namespace Ko.Engine.Go;

/// <summary>
/// Import paths and patterns are data from outside (YAML that others write, command lines): before one reaches
/// <c>go</c> it must be a Go import path (Go's rules: letters, digits and <c>-._~+</c>, elements separated by single
/// slashes, none empty, none made of dots only, none ending in a dot, no leading dash in any element), a relative path
/// (<c>.</c>, <c>./x</c>, <c>../x</c>) or an absolute directory, optionally with <c>...</c> wildcards. Anything that
/// could be read as a flag, a second argument or a control sequence is refused.
/// </summary>
internal static class ImportPaths
{
    private const int MaxLength = 4096;

    /// <summary>Throws <see cref="KoException"/> (KO2006) for the first import path or pattern that is not valid.</summary>
    public static void Validate(IEnumerable<string> patterns)
    {
        foreach (var pattern in patterns)
        {
            if (Problem(pattern) is { } problem)
            {
                throw new KoException(KoErrorCodes.InvalidImportPath, $"'{Printable(pattern)}' is not a valid import path: {problem}. Name a Go package as an import path (example.com/app/cmd/app) or a relative path (./cmd/app); import paths are never passed to go as flags.") { ImportPath = pattern };
            }
        }
    }

    /// <summary>Why <paramref name="pattern"/> is not a valid import path or pattern, or null when it is.</summary>
    public static string? Problem(string pattern)
    {
        if (pattern.Length == 0)
        {
            return "it is empty";
        }

        if (pattern.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        if (pattern[0] == '-')
        {
            return "it starts with '-', so go would read it as a flag";
        }

        if (pattern.Contains("//", StringComparison.Ordinal))
        {
            return "it has an empty path element ('//')";
        }

        var local = pattern is "." or ".." || pattern.StartsWith("./", StringComparison.Ordinal) || pattern.StartsWith("../", StringComparison.Ordinal);
        if (pattern[0] == '/')
        {
            local = true;
        }
        else if (pattern[^1] == '/' && !local)
        {
            return "it ends with '/'";
        }

        var elements = (local ? pattern.Trim('/') : pattern).Split('/');
        foreach (var element in elements)
        {
            if (local && element is "." or ".." or "")
            {
                continue; // a directory path: "." and ".." name directories, "/" is the root
            }

            if (ElementProblem(element, local) is { } problem)
            {
                return $"the element '{Printable(element)}' {problem}";
            }
        }

        return null;
    }

    private static string? ElementProblem(string element, bool local)
    {
        if (element.Length == 0)
        {
            return "is empty";
        }

        if (element[0] == '-')
        {
            return "starts with '-'";
        }

        // "..." is Go's wildcard; it may stand for a whole element or part of one (example.com/app/cmd/...).
        var plain = element.Replace("...", "x", StringComparison.Ordinal);
        if (plain.All(c => c == '.'))
        {
            return "is made of dots only";
        }

        if (plain[^1] == '.' && !element.EndsWith("...", StringComparison.Ordinal))
        {
            return "ends with a dot";
        }

        foreach (var c in plain)
        {
            if (!(local ? FileNameChar(c) : ImportPathChar(c)))
            {
                return $"has the character {Describe(c)}, which Go does not allow {(local ? "in a package directory" : "in an import path")}";
            }
        }

        return null;
    }

    /// <summary>Go's import path characters (module.CheckImportPath): ASCII letters, digits and <c>-._~+</c>.</summary>
    private static bool ImportPathChar(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '-' or '.' or '_' or '~' or '+';

    /// <summary>Go's file name characters (module.CheckFilePath): letters, digits, some punctuation, and space; never a quote, backslash or control character.</summary>
    private static bool FileNameChar(char c) =>
        ImportPathChar(c) || c is '!' or '#' or '$' or '%' or '&' or '(' or ')' or ',' or '=' or '@' or '[' or ']' or '^' or '{' or '}' or ' '
        || (c > 0x7f && char.IsLetter(c));

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) || char.IsSurrogate(c) ? $"U+{(int)c:X4}" : $"'{c}'";

    /// <summary>The text with control characters shown as <c>\uXXXX</c>, so a message cannot rewrite the terminal.</summary>
    private static string Printable(string text)
    {
        var shown = text.Length > 200 ? text[..200] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()));
    }
}
