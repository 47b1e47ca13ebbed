using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.Util;

namespace Ko.Engine.Go;

/// <summary>
/// Remembers what <c>go list -find</c> said for a set of patterns, and answers again without running go while
/// nothing it read has changed: the go binary, <c>go.mod</c> and <c>go.work</c> in the working directory and every
/// directory above it (present or absent), go's env file, and each listed package's directory and <c>.go</c> files,
/// each by stat fingerprint (as the kodata and binary layers). Anything that changed after go list started, or a
/// moment before, is not trusted: such a result is not kept, and an entry whose stamps differ is not used.
/// Only answers where every package is a <c>package main</c> without error are kept; everything else asks go again.
/// </summary>
internal sealed class GoListCache(string directory)
{
    private const int MaxEntryBytes = 4 << 20;

    /// <summary>The entry's key: go, the directory, the arguments and the variables go reads.</summary>
    public static string Key(string goPath, string workingDirectory, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string?> environment)
    {
        var parts = new List<string> { "go-list-v1", goPath, workingDirectory };
        parts.AddRange(arguments);
        foreach (var (name, value) in environment.Where(kv => IsRead(kv.Key)).OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            parts.Add(name + "=" + value);
        }

        return Layers.CacheKey.Of([.. parts]);
    }

    /// <summary>go's stdout for <paramref name="key"/> when every stamp still holds; null otherwise (or on any damage).</summary>
    public string? TryGet(string key)
    {
        var path = PathOf(key);
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxEntryBytes || UnixFileStatus.KindOf(path, followLinks: false) != FileKind.Regular)
            {
                return null;
            }

            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            var now = DateTimeOffset.UtcNow;
            foreach (var stamp in doc.RootElement.GetProperty("stamps").EnumerateArray())
            {
                if (Stamp(stamp[0].GetString()!, now) != stamp[1].GetString())
                {
                    return null;
                }
            }

            return doc.RootElement.GetProperty("stdout").GetString();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or InvalidOperationException or KeyNotFoundException or IndexOutOfRangeException or ArgumentException)
        {
            FileSystem.TryDelete(path); // a damaged entry: go is asked again and a good one written
            return null;
        }
    }

    /// <summary>
    /// Keeps go's answer, stamped by what it depends on; nothing is kept when any of it changed after
    /// <paramref name="started"/> (minus the racy window) or cannot be stamped.
    /// </summary>
    public void Put(string key, string stdout, IEnumerable<string> dependencies, DateTimeOffset started)
    {
        var stamps = new List<(string Path, string Stamp)>();
        foreach (var dependency in dependencies.Distinct(StringComparer.Ordinal))
        {
            if (Stamp(dependency, started) is not { } stamp)
            {
                return;
            }

            stamps.Add((dependency, stamp));
        }

        var json = OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("stdout", stdout);
            w.WriteStartArray("stamps");
            foreach (var (p, s) in stamps)
            {
                w.WriteStartArray();
                w.WriteStringValue(p);
                w.WriteStringValue(s);
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        });
        FileSystem.TryReplace(PathOf(key), json); // an unwritable cache only costs the next run a go list
    }

    /// <summary>
    /// The files go list -find reads for packages in <paramref name="packageDirectories"/> when run in
    /// <paramref name="workingDirectory"/>: see the class summary.
    /// </summary>
    public static IEnumerable<string> Dependencies(string goPath, string workingDirectory, IReadOnlyDictionary<string, string?> environment, IEnumerable<string> packageDirectories)
    {
        yield return goPath;
        for (var dir = new DirectoryInfo(Path.GetFullPath(workingDirectory)); dir is not null; dir = dir.Parent)
        {
            yield return Path.Combine(dir.FullName, "go.mod");
            yield return Path.Combine(dir.FullName, "go.work");
        }

        if (EnvFile(environment) is { } envFile)
        {
            yield return envFile;
        }

        foreach (var package in packageDirectories)
        {
            yield return package;
            foreach (var file in Directory.EnumerateFiles(package, "*.go").Order(StringComparer.Ordinal))
            {
                yield return file;
            }
        }
    }

    /// <summary>Variables go reads that can change what go list says.</summary>
    private static bool IsRead(string name) =>
        name.StartsWith("GO", StringComparison.Ordinal) || name.StartsWith("CGO_", StringComparison.Ordinal) || name is "HOME" or "XDG_CONFIG_HOME";

    /// <summary>go's env file (go env -w writes it): GOENV, else the user's config directory's go/env.</summary>
    private static string? EnvFile(IReadOnlyDictionary<string, string?> environment)
    {
        if (environment.GetValueOrDefault("GOENV") is { Length: > 0 } goenv)
        {
            return goenv == "off" ? null : goenv;
        }

        var config = environment.GetValueOrDefault("XDG_CONFIG_HOME") is { Length: > 0 } xdg ? xdg
            : environment.GetValueOrDefault("HOME") is { Length: > 0 } home ? Path.Combine(home, ".config") : null;
        return config is null ? null : Path.Combine(config, "go", "env");
    }

    /// <summary>"absent", or the fingerprint (links followed, as go reads through them); null when not trustworthy.</summary>
    private static string? Stamp(string path, DateTimeOffset now)
    {
        if (UnixFileStatus.FingerprintOf(path, followLinks: true) is { } f)
        {
            return f.IsRacy(now) ? null : f.ToString();
        }

        return File.Exists(path) || Directory.Exists(path) || UnixFileStatus.FingerprintOf(path, followLinks: false) is not null ? null : "absent";
    }

    private string PathOf(string key) => Path.Combine(directory, key + ".json");
}
