using System.Text;

namespace Ko.Engine.Registry.Auth;

/// <summary>
/// One challenge from a <c>WWW-Authenticate</c> header: its scheme (<c>Basic</c>, <c>Bearer</c>) and its
/// parameters (<c>realm</c>, <c>service</c>, <c>scope</c>, ...), with quoted values unquoted.
/// </summary>
internal sealed record AuthChallenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public bool IsBasic => string.Equals(Scheme, "Basic", StringComparison.OrdinalIgnoreCase);

    public bool IsBearer => string.Equals(Scheme, "Bearer", StringComparison.OrdinalIgnoreCase);

    public string? Realm => Get("realm");

    public string? Service => Get("service");

    public string? Scope => Get("scope");

    public string? Get(string name) => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>The challenges of a response, in order (several headers, or several challenges in one).</summary>
    public static IReadOnlyList<AuthChallenge> FromResponse(HttpResponseMessage response)
    {
        var result = new List<AuthChallenge>();
        if (response.Headers.NonValidated.TryGetValues("WWW-Authenticate", out var values))
        {
            foreach (var value in values)
            {
                result.AddRange(Parse(value));
            }
        }

        return result;
    }

    /// <summary>
    /// Parses one <c>WWW-Authenticate</c> value (RFC 9110 section 11.6.1): challenges separated by commas, each a
    /// scheme followed by <c>name=token</c> or <c>name="quoted, with \"escapes\""</c> parameters.
    /// </summary>
    public static IReadOnlyList<AuthChallenge> Parse(string header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var result = new List<AuthChallenge>();
        var i = 0;
        while (true)
        {
            SkipSeparators(header, ref i, commas: true);
            if (i >= header.Length)
            {
                break;
            }

            var scheme = ReadToken(header, ref i);
            if (scheme.Length == 0)
            {
                i++; // Not a token character: skip it rather than loop forever.
                continue;
            }

            var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            while (true)
            {
                SkipSeparators(header, ref i, commas: true);
                if (i >= header.Length)
                {
                    break;
                }

                var start = i;
                var name = ReadToken(header, ref i);
                SkipSeparators(header, ref i, commas: false);
                if (name.Length == 0 || i >= header.Length || header[i] != '=')
                {
                    // A token not followed by '=' starts the next challenge.
                    i = name.Length == 0 ? start + 1 : start;
                    if (name.Length == 0)
                    {
                        continue;
                    }

                    break;
                }

                i++; // '='
                SkipSeparators(header, ref i, commas: false);
                parameters[name] = i < header.Length && header[i] == '"' ? ReadQuoted(header, ref i) : ReadToken(header, ref i);
            }

            result.Add(new AuthChallenge(scheme, parameters));
        }

        return result;
    }

    private static void SkipSeparators(string s, ref int i, bool commas)
    {
        while (i < s.Length && (s[i] is ' ' or '\t' || (commas && s[i] == ',')))
        {
            i++;
        }
    }

    private static string ReadToken(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && IsTokenChar(s[i]))
        {
            i++;
        }

        return s[start..i];
    }

    private static string ReadQuoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length)
            {
                i++;
            }

            sb.Append(s[i]);
            i++;
        }

        i = Math.Min(i + 1, s.Length); // closing quote
        return sb.ToString();
    }

    // RFC 9110 tchar, plus '/' and ':' so unquoted URLs and scopes survive as one value.
    private static bool IsTokenChar(char c) =>
        char.IsAsciiLetterOrDigit(c) || c is '!' or '#' or '$' or '%' or '&' or '\'' or '*' or '+' or '-' or '.' or '^' or '_' or '`' or '|' or '~' or '/' or ':';
}
