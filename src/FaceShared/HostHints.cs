using System.Reflection;
using System.Text;
using System.Text.RegularExpressions;

namespace KoAddins.FaceShared;

/// <summary>
/// Rewrites the hints in an engine error for a host: the engine speaks in command-line flags (<c>pass --push=false</c>,
/// <c>run `dotnet ko login HOST ...`</c>), a Cake script sets <c>Push = false</c> and a NUKE build calls
/// <c>SetPush(false)</c>. The flag ↔ property table is derived from the host's own settings types: a flag names the
/// property whose kebab-case name it is (with the plural, <c>Path</c> and <c>Use</c> forms ko's flag names drop), so a
/// new setting needs no second table. A flag no settings property answers stays as it is. Compiled into each face.
/// </summary>
internal abstract partial class HostHints
{
    // ko's flag names that are not a form of the property's name.
    private static readonly Dictionary<string, string> Aliases = new(StringComparer.Ordinal)
    {
        ["sbom-dir"] = "SbomDirectory",
        ["password-stdin"] = "Password",
        ["username"] = "Username",
    };

    private readonly Dictionary<string, PropertyInfo> _properties = new(StringComparer.Ordinal);

    /// <summary>Builds the table from the host's settings types (their public instance properties).</summary>
    /// <param name="settingsTypes">Every settings type of the host.</param>
    protected HostHints(IEnumerable<Type> settingsTypes)
    {
        foreach (var type in settingsTypes)
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                _properties.TryAdd(property.Name, property);
            }
        }
    }

    /// <summary>The word that replaces "pass" or "use" before a flag: "set" in Cake, "call" in NUKE.</summary>
    protected abstract string Verb { get; }

    /// <summary>The property a flag maps to in this host, or null when the host has none.</summary>
    /// <param name="flag">The flag without dashes, e.g. <c>push</c> or <c>oci-layout-path</c>.</param>
    /// <returns>The property.</returns>
    public PropertyInfo? PropertyOf(string flag)
    {
        if (Aliases.TryGetValue(flag, out var alias))
        {
            return _properties.GetValueOrDefault(alias);
        }

        var pascal = string.Concat(flag.Split('-', StringSplitOptions.RemoveEmptyEntries).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
        foreach (var name in new[] { pascal, pascal + "s", pascal + "Path", "Use" + pascal })
        {
            if (_properties.TryGetValue(name, out var property))
            {
                return property;
            }
        }

        return null;
    }

    /// <summary>Rewrites every flag and <c>dotnet ko</c> command in <paramref name="message"/> that this host has a setting or task for.</summary>
    /// <param name="message">The engine's message.</param>
    /// <returns>The message in the host's terms.</returns>
    public string Rewrite(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        // Commands first, each as a whole; the flags of a command this host cannot say stay as the engine wrote them.
        var text = new StringBuilder();
        var at = 0;
        foreach (Match command in Command().Matches(message))
        {
            text.Append(RewriteFlags(message[at..command.Index])).Append(RewriteCommand(command));
            at = command.Index + command.Length;
        }

        return text.Append(RewriteFlags(message[at..])).ToString();
    }

    /// <summary>How one setting reads in this host, e.g. <c>Push = false</c> or <c>SetPush(false)</c>.</summary>
    /// <param name="property">The property.</param>
    /// <param name="value">The value as host code (a literal, an enum member, a placeholder), or null when the hint gives none.</param>
    /// <returns>The host code.</returns>
    protected abstract string Render(PropertyInfo property, string? value);

    /// <summary>How a <c>dotnet ko VERB</c> command with these settings reads in this host, or null when the host has no such task.</summary>
    /// <param name="verb">The command, e.g. <c>build</c>.</param>
    /// <param name="settings">The settings the command's flags became (host code, in order).</param>
    /// <returns>The host code.</returns>
    protected abstract string? RenderTask(string verb, IReadOnlyList<(PropertyInfo Property, string? Value)> settings);

    /// <summary>How <c>dotnet ko login REGISTRY ...</c> reads in this host.</summary>
    /// <param name="registry">The registry as host code (a quoted host or a placeholder).</param>
    /// <returns>The host code.</returns>
    protected abstract string RenderLogin(string registry);

    /// <summary>A value as host code: a placeholder (FILE, NAME) stays, a bool or number is a literal, an enum value names the member, anything else is a quoted string.</summary>
    /// <param name="property">The property the value is for.</param>
    /// <param name="raw">The text after the flag.</param>
    /// <returns>The host code, or null when the value does not fit the property.</returns>
    protected static string? Literal(PropertyInfo property, string raw)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (IsPlaceholder(raw))
        {
            return raw;
        }

        if (type == typeof(bool))
        {
            return bool.TryParse(raw, out var b) ? (b ? "true" : "false") : null;
        }

        if (type.IsEnum)
        {
            var member = Enum.GetNames(type).FirstOrDefault(n => string.Equals(n, raw.Replace("-", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase));
            return member is null ? null : $"{type.Name}.{member}";
        }

        return type == typeof(int) ? raw : $"\"{raw}\"";
    }

    /// <summary>True for a bool (or bool?) property.</summary>
    /// <param name="property">The property.</param>
    /// <returns>Whether it is a switch.</returns>
    protected static bool IsSwitch(PropertyInfo property) => (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType) == typeof(bool);

    /// <summary>True for FILE, NAME, REGISTRY/REPOSITORY and the like.</summary>
    /// <param name="text">The text.</param>
    /// <returns>Whether it is a placeholder.</returns>
    protected static bool IsPlaceholder(string text) => Placeholder().IsMatch(text);

    private string? Setting(string flag, string? raw)
    {
        var property = PropertyOf(flag);
        if (property is null)
        {
            return null;
        }

        var value = raw is null ? null : Literal(property, raw);
        return raw is not null && value is null ? null : Render(property, value);
    }

    private string RewriteFlags(string text) => FlagMention().Replace(text, m =>
    {
        // A lower-case word after a flag is its value only when it names a member of the property's enum (--sbom none).
        var word = m.Groups["word"];
        var property = word.Success ? PropertyOf(m.Groups["flag"].Value) : null;
        var wordIsValue = property is not null && (Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType).IsEnum && Literal(property, word.Value) is not null;
        var setting = Setting(m.Groups["flag"].Value, wordIsValue ? word.Value : Value(m));
        if (setting is null)
        {
            return m.Value;
        }

        var verb = m.Groups["verb"].Success ? CaseOf(m.Groups["verb"].Value, Verb) + " " : string.Empty;
        var rest = word.Success && !wordIsValue ? " " + word.Value : string.Empty;
        return $"{verb}`{setting}`{rest}";
    });

    private static string? Value(Match m) =>
        m.Groups["eq"].Success ? m.Groups["eq"].Value : m.Groups["arg"].Success ? m.Groups["arg"].Value : null;

    private string RewriteCommand(Match m)
    {
        var verb = m.Groups["cmd"].Value;
        var rest = m.Groups["rest"].Value;
        string? code;
        if (verb == "login")
        {
            var registry = LoginRegistry().Match(rest);
            var host = registry.Success ? registry.Groups[1].Value : "REGISTRY";
            code = RenderLogin(IsPlaceholder(host) ? host : $"\"{host}\"");
        }
        else
        {
            var settings = new List<(PropertyInfo, string?)>();
            foreach (Match flag in FlagMention().Matches(rest))
            {
                var property = PropertyOf(flag.Groups["flag"].Value);
                var raw = Value(flag);
                var value = property is null || raw is null ? null : Literal(property, raw);
                if (property is null || (raw is not null && value is null))
                {
                    return m.Value; // a flag this host cannot say: keep the command as the engine wrote it
                }

                settings.Add((property, value));
            }

            if (FlagMention().Replace(rest, string.Empty).Trim().Length > 0)
            {
                return m.Value; // positional arguments (an image reference...): keep the command
            }

            code = RenderTask(verb, settings);
        }

        if (code is null)
        {
            return m.Value;
        }

        var run = m.Groups["run"].Success ? CaseOf(m.Groups["run"].Value, "call") + " " : string.Empty;
        return m.Groups["q"].Value.Length > 0 ? $"{run}`{code}`" : run + code;
    }

    private static string CaseOf(string original, string replacement) =>
        char.IsUpper(original[0]) ? char.ToUpperInvariant(replacement[0]) + replacement[1..] : replacement;

    /// <summary>Joins host code parts, e.g. the settings of a task.</summary>
    /// <param name="parts">The parts.</param>
    /// <param name="separator">The separator.</param>
    /// <returns>The joined text.</returns>
    protected static string Join(IEnumerable<string> parts, string separator)
    {
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            text.Append(text.Length > 0 ? separator : string.Empty).Append(part);
        }

        return text.ToString();
    }

    // A flag: --name, --name=value, or --name PLACEHOLDER / --name enumvalue (the value is checked against the property).
    [GeneratedRegex(@"(?:(?<verb>\b(?:[Pp]ass|[Uu]se)) )?(?<![\w-])--(?<flag>[a-z][a-z0-9-]*[a-z0-9])(?:=(?<eq>[A-Za-z0-9_./:-]*[A-Za-z0-9_])| (?<arg>[A-Z][A-Z_/]+(?![a-z]))| (?<word>[a-z][a-z0-9]*)\b)?")]
    private static partial Regex FlagMention();

    // dotnet ko VERB [flags...], optionally in backticks or single quotes (then up to the closing quote).
    [GeneratedRegex(@"(?:(?<run>\b[Rr]un) )?(?<q>[`'])dotnet ko (?<cmd>[a-z-]+)(?<rest>[^`']*)\k<q>|dotnet ko (?<cmd>[a-z-]+)(?<rest>(?: --?[a-z][a-z-]*(?:=\S*[^\s.,;)]| [A-Z][A-Z_/]+(?![a-z]))?)*)")]
    private static partial Regex Command();

    [GeneratedRegex(@"^\s*(\S+)")]
    private static partial Regex LoginRegistry();

    [GeneratedRegex(@"^[A-Z][A-Z0-9_/.:-]*$")]
    private static partial Regex Placeholder();
}
