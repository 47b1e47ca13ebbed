using System.Text;
using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.Tools;
using Ko.Engine.Util;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Go;

/// <summary>A package as <c>go list</c> reports it.</summary>
/// <param name="Pattern">The import path or relative path the caller gave.</param>
/// <param name="ImportPath">The package's import path.</param>
/// <param name="Name">The package name (<c>main</c> for commands).</param>
/// <param name="Dir">The package's directory.</param>
/// <param name="Error">Go's error for the package, if any.</param>
internal sealed record GoPackage(string Pattern, string ImportPath, string Name, string Dir, string? Error);

/// <summary>Runs the <c>go</c> tool: one <c>go list</c> for all import paths, and <c>go build</c> per platform.</summary>
internal sealed class GoTool(string goPath, IReadOnlyDictionary<string, string?> environment, ILogger logger, ChildRegistry? registry = null, GoListCache? listCache = null)
{
    /// <summary>Resolves every pattern with one <c>go list -e -json</c> call, in the order given.</summary>
    public async Task<IReadOnlyList<GoPackage>> ListAsync(string workingDirectory, IReadOnlyList<string> patterns, CancellationToken cancellationToken)
    {
        var packages = await ListRawAsync(workingDirectory, patterns, cancellationToken).ConfigureAwait(false);
        if (packages is null)
        {
            // go list merges two spellings of one package ("." and its import path); ask once per pattern instead.
            var merged = new List<JsonElement>();
            foreach (var pattern in patterns)
            {
                var one = await ListRawAsync(workingDirectory, [pattern], cancellationToken).ConfigureAwait(false);
                merged.AddRange(one ?? throw new KoException(KoErrorCodes.PackageNotFound, $"go list could not resolve '{pattern}' in {workingDirectory}. Run the command from the Go module that holds the package."));
            }

            packages = merged;
        }

        var list = new List<GoPackage>();
        for (var i = 0; i < patterns.Count; i++)
        {
            var p = packages[i];
            string Str(JsonElement o, string name) => o.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : string.Empty;
            var error = p.TryGetProperty("Error", out var e) ? (e.ValueKind == JsonValueKind.Object ? Str(e, "Err") : e.GetRawText()) : null;
            list.Add(new GoPackage(patterns[i], Str(p, "ImportPath"), Str(p, "Name"), Str(p, "Dir"), error));
        }

        return list;
    }

    private async Task<List<JsonElement>?> ListRawAsync(string workingDirectory, IReadOnlyList<string> patterns, CancellationToken cancellationToken)
    {
        // -find: identify the packages without loading their dependencies (the expensive part of go list).
        var args = new List<string> { "list", "-find", "-e", "-json=ImportPath,Name,Dir,Error", "--" };
        args.AddRange(patterns);
        var key = listCache is null ? null : GoListCache.Key(goPath, workingDirectory, args, environment);
        var started = DateTimeOffset.UtcNow;
        ProgramResult result;
        if (key is not null && listCache!.TryGet(key) is { } cached)
        {
            logger.LogDebug("go list {Patterns}: nothing it reads changed since the last run, so its answer is reused", string.Join(' ', patterns));
            result = new ProgramResult(0, cached, string.Empty);
            key = null; // nothing to store again
        }
        else
        {
            result = await RunAsync(workingDirectory, args, environment, cancellationToken).ConfigureAwait(false);
        }

        var packages = new List<JsonElement>();
        var json = Encoding.UTF8.GetBytes(result.StandardOutput);
        try
        {
#if NET9_0_OR_GREATER
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { AllowMultipleValues = true });
            while (reader.Read())
            {
                using var doc = JsonDocument.ParseValue(ref reader);
                AddPackage(doc);
            }
#else
            // .NET 8's reader takes one top-level value: read one, then start again after it.
            for (var rest = json.AsMemory(); rest.Span.TrimStart(" \t\r\n"u8).Length > 0;)
            {
                var reader = new Utf8JsonReader(rest.Span);
                using var doc = JsonDocument.ParseValue(ref reader);
                AddPackage(doc);
                rest = rest[(int)reader.BytesConsumed..];
            }
#endif
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.PackageNotFound, $"go list returned output that is not JSON ({ex.Message}); its errors were:\n{result.StandardError.Trim()}");
        }

        void AddPackage(JsonDocument doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException($"a {doc.RootElement.ValueKind} where a package object belongs");
            }

            packages.Add(doc.RootElement.Clone());
        }

        if (packages.Count != patterns.Count)
        {
            if (packages.Count > 0 && result.ExitCode == 0)
            {
                return null;
            }

            var stderr = result.StandardError.Trim();
            throw new KoException(KoErrorCodes.PackageNotFound, $"go list could not resolve {string.Join(" ", patterns)} in {workingDirectory}:\n{(stderr.Length > 0 ? stderr : "(no message)")}\nRun the command from the Go module that holds the packages, or pass its directory as the working directory.");
        }

        if (key is not null && result.ExitCode == 0)
        {
            Remember(key, workingDirectory, result.StandardOutput, packages, started);
        }

        return packages;
    }

    /// <summary>Keeps an answer that lists only commands without errors (see <see cref="GoListCache"/>).</summary>
    private void Remember(string key, string workingDirectory, string stdout, List<JsonElement> packages, DateTimeOffset started)
    {
        var dirs = new List<string>();
        foreach (var p in packages)
        {
            if (p.TryGetProperty("Error", out _) || !p.TryGetProperty("Name", out var name) || name.ValueKind != JsonValueKind.String || name.GetString() != "main"
                || !p.TryGetProperty("Dir", out var dir) || dir.ValueKind != JsonValueKind.String || !Path.IsPathRooted(dir.GetString()))
            {
                return;
            }

            dirs.Add(dir.GetString()!);
        }

        try
        {
            listCache!.Put(key, stdout, GoListCache.Dependencies(goPath, workingDirectory, environment, dirs), started);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A package directory that went away meanwhile: nothing is kept, and the next run asks go.
        }
    }

    /// <summary>
    /// Builds one package for one platform into <paramref name="output"/> with <c>-trimpath</c> and
    /// <c>CGO_ENABLED=0</c>; the output path is stable so Go can skip relinking an unchanged program.
    /// </summary>
    public Task BuildAsync(string workingDirectory, string importPath, Platform platform, string output, IReadOnlyList<string> flags, IReadOnlyDictionary<string, string?> extraEnv, CancellationToken cancellationToken) =>
        BuildIntoAsync(workingDirectory, [importPath], platform, output, flags, extraEnv, cancellationToken);

    private async Task BuildIntoAsync(string workingDirectory, IReadOnlyList<string> importPaths, Platform platform, string output, IReadOnlyList<string> flags, IReadOnlyDictionary<string, string?> extraEnv, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(output)!);
        // As ko: defaults (CGO_ENABLED=0 and the platform) < the process environment < the build's env. GOOS/GOARCH/
        // GOARM in the environment are the default platform, and the plan refuses them next to explicit platforms.
        var env = new Dictionary<string, string?>(StringComparer.Ordinal) { ["CGO_ENABLED"] = "0" };
        foreach (var (k, v) in PlatformEnvironment(platform))
        {
            env[k] = v;
        }

        foreach (var (k, v) in environment.Where(kv => kv.Value is not null))
        {
            env[k] = v;
        }

        foreach (var (k, v) in extraEnv)
        {
            env[k] = v;
        }

        var args = new List<string> { "build", "-trimpath" };
        args.AddRange(flags);
        args.Add("-o");
        args.Add(output);
        args.Add("--"); // the package is data, never a flag (go 1.19+ reads everything after -- as packages)
        args.AddRange(importPaths);
        logger.LogDebug("go {Arguments} ({Platform})", string.Join(' ', args), platform);
        var result = await RunAsync(workingDirectory, args, env, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            var text = (result.StandardError + result.StandardOutput).Trim();
            throw new KoException(KoErrorCodes.BuildFailed, $"go build {string.Join(' ', importPaths)} for {platform} failed:\n{text}");
        }
    }

    /// <summary>
    /// Builds many packages for one platform with the same flags and environment in as few <c>go build -o DIR pkg1
    /// pkg2 ...</c> calls as their file names allow (one, unless two commands share a name), so Go loads, compiles
    /// and links them in one process and shares the work. Each binary lands at a stable path under
    /// <paramref name="outputDirectory"/> (go names it after the package, see <see cref="ExecutableName"/>; a second
    /// package of the same name goes into a numbered subdirectory), so an unchanged program is not relinked next time.
    /// Call it once per platform and per distinct settings (flags, env).
    /// </summary>
    /// <returns>Each import path's binary, in the order given.</returns>
    public async Task<IReadOnlyList<(string ImportPath, string Output)>> BuildManyAsync(string workingDirectory, IReadOnlyList<string> importPaths, Platform platform, string outputDirectory, IReadOnlyList<string> flags, IReadOnlyDictionary<string, string?> extraEnv, CancellationToken cancellationToken)
    {
        var result = OutputsOf(importPaths, platform, outputDirectory);
        foreach (var round in result.GroupBy(r => Path.GetDirectoryName(r.Output)!, StringComparer.Ordinal))
        {
            // A trailing separator: go writes into the directory even when only one package is given.
            await BuildIntoAsync(workingDirectory, [.. round.Select(r => r.ImportPath)], platform, round.Key + Path.DirectorySeparatorChar, flags, extraEnv, cancellationToken).ConfigureAwait(false);
        }

        return result;
    }

    /// <summary>
    /// Where <see cref="BuildManyAsync"/> puts each binary: <paramref name="outputDirectory"/>/NAME for the first
    /// package of a name, <c>.dupN/NAME</c> for the Nth more (no Go import path element starts with a dot, so no
    /// command is named like that subdirectory).
    /// </summary>
    public static IReadOnlyList<(string ImportPath, string Output)> OutputsOf(IReadOnlyList<string> importPaths, Platform platform, string outputDirectory)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var result = new List<(string ImportPath, string Output)>();
        foreach (var importPath in importPaths)
        {
            var name = ExecutableName(importPath, platform);
            var round = seen[name] = seen.TryGetValue(name, out var n) ? n + 1 : 0;
            var directory = round == 0 ? outputDirectory : Path.Combine(outputDirectory, ".dup" + round.ToString(System.Globalization.CultureInfo.InvariantCulture));
            result.Add((importPath, Path.Combine(directory, name)));
        }

        return result;
    }

    /// <summary>
    /// The file name <c>go build -o DIR</c> gives a command: the last element of its import path, or the one before
    /// a major-version suffix (<c>example.com/tool/v2</c> is <c>tool</c>), with <c>.exe</c> for Windows.
    /// </summary>
    public static string ExecutableName(string importPath, Platform platform)
    {
        var elements = importPath.TrimEnd('/').Split('/');
        var name = elements[^1];
        if (elements.Length > 1 && name.Length >= 2 && name[0] == 'v' && name[1..].All(char.IsAsciiDigit) && name is not "v0" and not "v1" && name[1] != '0')
        {
            name = elements[^2];
        }

        return platform.Os == "windows" ? name + ".exe" : name;
    }

    /// <summary>
    /// Expands patterns with <c>...</c> (as ko does for <c>ko build ./...</c>) into the import paths of the
    /// <c>package main</c>s they match, in go list's order; other patterns are kept as given. One go list call for
    /// all wildcard patterns, and none when there are none.
    /// </summary>
    public async Task<IReadOnlyList<string>> ExpandWildcardsAsync(string workingDirectory, IReadOnlyList<string> patterns, CancellationToken cancellationToken)
    {
        var wildcards = patterns.Where(p => p.Contains("...", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        if (wildcards.Count == 0)
        {
            return patterns;
        }

        var args = new List<string> { "list", "-find", "-f", "{{if eq .Name \"main\"}}{{.ImportPath}}{{end}}", "--" };
        args.AddRange(wildcards);
        var result = await RunAsync(workingDirectory, args, environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.PackageNotFound, $"go list could not expand {string.Join(" ", wildcards)} in {workingDirectory}:\n{result.StandardError.Trim()}");
        }

        var mains = result.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (mains.Length == 0)
        {
            throw new KoException(KoErrorCodes.PackageNotFound, $"{string.Join(" ", wildcards)} matches no package main in {workingDirectory}: ko builds commands only.");
        }

        var expanded = patterns.Where(p => !p.Contains("...", StringComparison.Ordinal)).Concat(mains).Distinct(StringComparer.Ordinal).ToList();
        logger.LogDebug("{Patterns} expanded to {ImportPaths}", string.Join(" ", wildcards), string.Join(" ", mains));
        return expanded;
    }

    /// <summary><c>go env -json</c> as a dictionary (for <c>{{.GoEnv.X}}</c> templates).</summary>
    public async Task<IReadOnlyDictionary<string, string>> EnvAsync(string workingDirectory, CancellationToken cancellationToken)
    {
        var result = await RunAsync(workingDirectory, ["env", "-json"], environment, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new KoException(KoErrorCodes.GoNotFound, $"go env -json failed in {workingDirectory}:\n{result.StandardError.Trim()}");
        }

        try
        {
            using var doc = JsonDocument.Parse(result.StandardOutput);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new JsonException($"a {doc.RootElement.ValueKind} where an object belongs");
            }

            var values = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
            {
                values[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }

            return values;
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.GoNotFound, $"go env -json in {workingDirectory} returned output that is not a JSON object ({ex.Message}). Check that KO_GO_PATH or PATH names a real go.", ex);
        }
    }

    /// <summary>The GOOS/GOARCH/GOARM/GOAMD64 variables for a platform.</summary>
    public static IReadOnlyDictionary<string, string> PlatformEnvironment(Platform platform)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["GOOS"] = platform.Os,
            ["GOARCH"] = platform.Architecture,
        };
        // As ko's getGoarm (pkg/build/gobuild.go): v5 to v7 as given, anything above v7 as 7 (Go has no GOARM=8),
        // below v5 nothing.
        if (platform.Architecture == "arm" && platform.Variant is { Length: > 1 } armVariant && armVariant[0] == 'v'
            && int.TryParse(armVariant[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var goarm) && goarm >= 5)
        {
            env["GOARM"] = goarm > 7 ? "7" : armVariant[1..];
        }

        if (platform.Architecture == "amd64" && platform.Variant is not null)
        {
            env["GOAMD64"] = platform.Variant;
        }

        return env;
    }

    private Task<ProgramResult> RunAsync(string workingDirectory, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> env, CancellationToken cancellationToken) =>
        // The process gets exactly the given environment, so a host (Cake, NUKE) decides what Go sees.
        ExternalProgram.RunAsync(Start(goPath, args, env) with { WorkingDirectory = workingDirectory, Registry = registry }, cancellationToken);

    /// <summary>How to start go: exactly the given environment; a missing go is KO2001 with how to install it.</summary>
    public static ProgramStart Start(string goPath, IReadOnlyList<string> args, IReadOnlyDictionary<string, string?> env) =>
        new("go", goPath, args, ChildProcesses.ExactEnvironment(env), KoErrorCodes.GoNotFound, InstallAdvice);

    private const string InstallAdvice = "Install Go (on Debian: apt-get install golang-go) or point KO_GO_PATH at the go binary.";

    /// <summary>Finds the go binary: <c>KO_GO_PATH</c>, else <c>go</c> on the PATH.</summary>
    public static string Locate(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.TryGetValue("KO_GO_PATH", out var explicitPath) && !string.IsNullOrWhiteSpace(explicitPath))
        {
            return explicitPath;
        }

        return ExternalProgram.FindOnPath("go", environment) ?? throw new KoException(KoErrorCodes.GoNotFound, "go was not found on the PATH. " + InstallAdvice);
    }
}
