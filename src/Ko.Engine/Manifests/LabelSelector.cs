namespace Ko.Engine.Manifests;

/// <summary>
/// A Kubernetes label selector as <c>-l</c> takes it: comma-separated requirements that must all hold —
/// <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a in (x,y)</c>, <c>a notin (x)</c>, <c>a</c> (exists), <c>!a</c> (absent).
/// </summary>
internal sealed class LabelSelector
{
    private readonly IReadOnlyList<Requirement> _requirements;

    private LabelSelector(IReadOnlyList<Requirement> requirements) => _requirements = requirements;

    /// <summary>The requirements, for tests and messages.</summary>
    public IReadOnlyList<Requirement> Requirements => _requirements;

    /// <summary>Parses a selector; an empty one matches everything.</summary>
    /// <exception cref="KoException"><c>KO4003</c> when the selector cannot be parsed.</exception>
    public static LabelSelector Parse(string selector)
    {
        ArgumentNullException.ThrowIfNull(selector);
        var requirements = new List<Requirement>();
        foreach (var part in SplitTopLevel(selector))
        {
            var text = part.Trim();
            if (text.Length == 0)
            {
                if (selector.Trim().Length == 0)
                {
                    continue;
                }

                throw Invalid(selector, "an empty requirement");
            }

            requirements.Add(ParseRequirement(selector, text));
        }

        return new LabelSelector(requirements);
    }

    /// <summary>Whether labels satisfy every requirement.</summary>
    public bool Matches(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var r in _requirements)
        {
            var has = labels.TryGetValue(r.Key, out var value);
            var ok = r.Operator switch
            {
                SelectorOperator.Exists => has,
                SelectorOperator.DoesNotExist => !has,
                SelectorOperator.Equals or SelectorOperator.In => has && r.Values.Contains(value!),
                SelectorOperator.NotEquals or SelectorOperator.NotIn => !has || !r.Values.Contains(value!),
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static Requirement ParseRequirement(string selector, string text)
    {
        if (text.StartsWith('!'))
        {
            return new Requirement(Key(selector, text[1..].Trim()), SelectorOperator.DoesNotExist, []);
        }

        var ne = text.IndexOf("!=", StringComparison.Ordinal);
        if (ne > 0)
        {
            return new Requirement(Key(selector, text[..ne].Trim()), SelectorOperator.NotEquals, [Value(selector, text[(ne + 2)..].Trim())]);
        }

        var eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq > 0)
        {
            var valueStart = eq + 1 < text.Length && text[eq + 1] == '=' ? eq + 2 : eq + 1;
            return new Requirement(Key(selector, text[..eq].Trim()), SelectorOperator.Equals, [Value(selector, text[valueStart..].Trim())]);
        }

        var open = text.IndexOf('(', StringComparison.Ordinal);
        if (open > 0)
        {
            if (!text.EndsWith(')'))
            {
                throw Invalid(selector, $"'{text}' has no closing ')'");
            }

            var head = text[..open].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (head.Length != 2 || head[1] is not ("in" or "notin"))
            {
                throw Invalid(selector, $"'{text}' is not 'key in (values)' or 'key notin (values)'");
            }

            var values = text[(open + 1)..^1].Split(',').Select(v => Value(selector, v.Trim())).ToList();
            if (values.Count == 0 || (values.Count == 1 && values[0].Length == 0))
            {
                throw Invalid(selector, $"'{text}' lists no values");
            }

            return new Requirement(Key(selector, head[0]), head[1] == "in" ? SelectorOperator.In : SelectorOperator.NotIn, values);
        }

        return new Requirement(Key(selector, text), SelectorOperator.Exists, []);
    }

    private static string Key(string selector, string key)
    {
        if (key.Length == 0 || key.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/')))
        {
            throw Invalid(selector, $"'{key}' is not a label key");
        }

        return key;
    }

    private static string Value(string selector, string value)
    {
        if (value.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            throw Invalid(selector, $"'{value}' is not a label value");
        }

        return value;
    }

    private static IEnumerable<string> SplitTopLevel(string selector)
    {
        var depth = 0;
        var start = 0;
        for (var i = 0; i < selector.Length; i++)
        {
            switch (selector[i])
            {
                case '(':
                    depth++;
                    break;
                case ')':
                    depth--;
                    if (depth < 0)
                    {
                        throw Invalid(selector, "an unbalanced ')'");
                    }

                    break;
                case ',' when depth == 0:
                    yield return selector[start..i];
                    start = i + 1;
                    break;
            }
        }

        if (depth != 0)
        {
            throw Invalid(selector, "an unbalanced '('");
        }

        yield return selector[start..];
    }

    private static KoException Invalid(string selector, string what) =>
        new(KoErrorCodes.InvalidSelector, $"the label selector '{selector}' has {what}. Write requirements such as app=web,tier!=db,env in (a,b),!legacy.");

    /// <summary>One requirement of a selector.</summary>
    internal sealed record Requirement(string Key, SelectorOperator Operator, IReadOnlyList<string> Values);
}

/// <summary>The operator of a selector requirement.</summary>
internal enum SelectorOperator
{
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
}
