using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Ko.Engine.Configuration;

/// <summary>
/// ko's templates in <c>.ko.yaml</c> values: <c>{{.Env.X}}</c>, <c>{{.GoEnv.X}}</c>, <c>{{.Date}}</c>, <c>{{.Timestamp}}</c>
/// and <c>{{.Git.Branch|Tag|ShortCommit|FullCommit|CommitDate|CommitTimestamp|IsDirty|IsClean|TreeState}}</c>.
/// <c>git</c> and <c>go env -json</c> run only when a template asks for them, and at most once per context (one run).
/// A missing key is an error that names the key and where it was used.
/// </summary>
internal sealed partial class TemplateContext
{
    private static readonly string[] GitKeys = ["Branch", "Tag", "ShortCommit", "FullCommit", "CommitDate", "CommitTimestamp", "IsDirty", "IsClean", "TreeState"];

    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly IReadOnlyDictionary<string, string?> _buildEnvironment = new Dictionary<string, string?>();
    private readonly DateTimeOffset _now;
    private readonly Lazy<Task<IReadOnlyDictionary<string, string>>> _git;
    private readonly Lazy<Task<IReadOnlyDictionary<string, string>>> _goEnv;

    /// <param name="environment">What <c>.Env</c> reads (the process environment the build sees).</param>
    /// <param name="workingDirectory">Where git runs.</param>
    /// <param name="now">What <c>.Date</c> and <c>.Timestamp</c> show (<c>SOURCE_DATE_EPOCH</c> when set, else the clock).</param>
    /// <param name="goEnv">Runs <c>go env -json</c>; called at most once.</param>
    /// <param name="gitPath">The git binary (default: <c>git</c> on the PATH).</param>
    public TemplateContext(IReadOnlyDictionary<string, string?> environment, string workingDirectory, DateTimeOffset now, Func<CancellationToken, Task<IReadOnlyDictionary<string, string>>> goEnv, string gitPath = "git")
    {
        _environment = environment;
        _now = now;
        _goEnv = new Lazy<Task<IReadOnlyDictionary<string, string>>>(() => goEnv(CancellationToken.None));
        _git = new Lazy<Task<IReadOnlyDictionary<string, string>>>(() => ReadGitAsync(gitPath, workingDirectory, environment));
    }

    private TemplateContext(TemplateContext parent, IReadOnlyDictionary<string, string?> buildEnvironment)
    {
        var merged = new Dictionary<string, string?>(parent._environment, StringComparer.Ordinal);
        foreach (var (k, v) in buildEnvironment)
        {
            merged[k] = v;
        }

        _environment = merged;
        _buildEnvironment = buildEnvironment;
        _now = parent._now;
        _git = parent._git;
        _goEnv = parent._goEnv;
    }

    /// <summary>
    /// This context as one build sees it, as ko's createTemplateData (pkg/build/gobuild.go): <c>.Env</c> is the
    /// process environment with the build's <c>env</c> (or <c>defaultEnv</c>) on top, and <c>.GoEnv</c> takes the
    /// build's value for every key <c>go env</c> knows. git and <c>go env</c> still run at most once.
    /// </summary>
    public TemplateContext WithBuildEnvironment(IReadOnlyDictionary<string, string?> buildEnvironment) =>
        buildEnvironment.Count == 0 ? this : new TemplateContext(this, buildEnvironment);

    /// <summary>How many times git ran (for tests: never when no template asks, once otherwise).</summary>
    public bool GitRan => _git.IsValueCreated;

    /// <summary>Whether <c>go env</c> ran.</summary>
    public bool GoEnvRan => _goEnv.IsValueCreated;

    [GeneratedRegex(@"\{\{-?\s*\.([A-Za-z_][A-Za-z0-9_]*)(?:\.([A-Za-z_][A-Za-z0-9_]*))?\s*-?\}\}")]
    private static partial Regex Action();

    public static bool HasTemplate(string text) => text.Contains("{{", StringComparison.Ordinal);

    /// <summary>Expands every template in <paramref name="text"/>; <paramref name="where"/> names the file and key for errors.</summary>
    public async Task<string> ExpandAsync(string text, string where, CancellationToken cancellationToken)
    {
        if (!HasTemplate(text))
        {
            return text;
        }

        var result = new StringBuilder();
        var position = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                result.Append(text, position, text.Length - position);
                break;
            }

            result.Append(text, position, open - position);
            var match = Action().Match(text, open);
            if (!match.Success || match.Index != open)
            {
                var close = text.IndexOf("}}", open, StringComparison.Ordinal);
                var shown = close < 0 ? text[open..] : text[open..(close + 2)];
                throw new KoException(KoErrorCodes.ConfigTemplate, $"{where}: template '{shown}' is not supported: use {{{{.Env.NAME}}}}, {{{{.GoEnv.NAME}}}}, {{{{.Date}}}}, {{{{.Timestamp}}}} or {{{{.Git.FIELD}}}}.");
            }

            result.Append(await ValueAsync(match.Groups[1].Value, match.Groups[2].Success ? match.Groups[2].Value : null, match.Value, where, cancellationToken).ConfigureAwait(false));
            position = open + match.Length;
        }

        return result.ToString();
    }

    private async Task<string> ValueAsync(string root, string? field, string shown, string where, CancellationToken cancellationToken)
    {
        KoException Missing(string what) => new(KoErrorCodes.ConfigTemplate, $"{where}: template {shown}: {what}.");
        switch (root)
        {
            case "Env" when field is not null:
                // ko always defines .Env.LDFLAGS (empty unless set).
                return _environment.TryGetValue(field, out var v) && v is not null ? v
                    : field == "LDFLAGS" ? string.Empty : throw Missing($"the environment has no variable {field}; set {field} or change the template");
            case "GoEnv" when field is not null:
                var goEnv = await _goEnv.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
                if (!goEnv.TryGetValue(field, out var g))
                {
                    throw Missing($"go env has no key {field}; see `go env -json` for the keys");
                }

                return _buildEnvironment.TryGetValue(field, out var overridden) && overridden is not null ? overridden : g;
            case "Git" when field is not null:
                if (!GitKeys.Contains(field, StringComparer.Ordinal))
                {
                    throw Missing($"Git has no field {field}; use one of {string.Join(", ", GitKeys)}");
                }

                var git = await _git.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
                return git.TryGetValue(field, out var gv) ? gv : string.Empty;
            case "Date" when field is null:
                return _now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            case "Timestamp" when field is null:
                return _now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
            default:
                throw Missing($"there is no key .{root}{(field is null ? string.Empty : "." + field)}; use .Env.NAME, .GoEnv.NAME, .Date, .Timestamp or .Git.FIELD");
        }
    }

    /// <summary>
    /// ko's git fields (pkg/internal/git/info.go): outside a work tree the strings are empty, the tree state is
    /// <c>clean</c> and the commit date is Go's zero time; in one without a tag, Tag is <c>v0.0.0</c>. Dates are UTC.
    /// </summary>
    private static async Task<IReadOnlyDictionary<string, string>> ReadGitAsync(string gitPath, string workingDirectory, IReadOnlyDictionary<string, string?> environment)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        async Task<string?> Git(params string[] args)
        {
            var env = environment.Where(kv => kv.Key.StartsWith("GIT_", StringComparison.Ordinal) || kv.Key is "HOME" or "PATH").ToDictionary(kv => kv.Key, kv => kv.Value);
            try
            {
                var start = new Tools.ProgramStart("git", gitPath, args, env, KoErrorCodes.ConfigTemplate, "Install git or leave out the .Git template fields.") { WorkingDirectory = workingDirectory };
                var r = await Tools.ExternalProgram.RunAsync(start, timeout.Token).ConfigureAwait(false);
                return r.ExitCode == 0 ? r.StandardOutput.Trim() : null;
            }
            catch (KoException ex) when (ex.Code == KoErrorCodes.ConfigTemplate)
            {
                return null; // no git: the fields are empty, as ko leaves them outside a work tree
            }
        }

        var log = Git("log", "-1", "--format=%H%n%h%n%ct");
        var branch = Git("rev-parse", "--abbrev-ref", "HEAD");
        var tag = Git("describe", "--tags", "--abbrev=0");
        var status = Git("status", "--porcelain");
        await Task.WhenAll(log, branch, tag, status).ConfigureAwait(false);
        var result = GitKeys.ToDictionary(k => k, _ => string.Empty, StringComparer.Ordinal);
        result["CommitDate"] = "0001-01-01T00:00:00Z";
        result["CommitTimestamp"] = "-62135596800";
        result["IsDirty"] = "false";
        result["IsClean"] = "true";
        result["TreeState"] = "clean";
        if (await log.ConfigureAwait(false) is not { } logText)
        {
            return result;
        }

        var lines = logText.Split('\n');
        if (lines.Length >= 3 && long.TryParse(lines[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            result["FullCommit"] = lines[0];
            result["ShortCommit"] = lines[1];
            result["CommitDate"] = DateTimeOffset.FromUnixTimeSeconds(seconds).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            result["CommitTimestamp"] = lines[2];
        }

        result["Branch"] = await branch.ConfigureAwait(false) ?? string.Empty;
        result["Tag"] = await tag.ConfigureAwait(false) is { Length: > 0 } t ? t : "v0.0.0";
        var dirty = (await status.ConfigureAwait(false) ?? string.Empty).Length > 0;
        result["IsDirty"] = dirty ? "true" : "false";
        result["IsClean"] = dirty ? "false" : "true";
        result["TreeState"] = dirty ? "dirty" : "clean";
        return result;
    }
}
