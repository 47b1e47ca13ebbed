using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Ko.Engine.Configuration;

/// <summary>One <c>builds[]</c> entry of <c>.ko.yaml</c>; <see cref="Index"/> is its position, for messages.</summary>
internal sealed record KoBuildConfig
{
    public int Index { get; init; }

    public string? Id { get; init; }

    public string? Dir { get; init; }

    public string? Main { get; init; }

    public IReadOnlyList<string>? Env { get; init; }

    public IReadOnlyList<string>? Flags { get; init; }

    public IReadOnlyList<string>? Ldflags { get; init; }

    public IReadOnlyList<string> LinuxCapabilities { get; init; } = [];

    public IReadOnlyDictionary<string, string>? Labels { get; init; }

    public IReadOnlyDictionary<string, string>? Annotations { get; init; }

    public string? User { get; init; }

    public IReadOnlyList<string>? ImageEnv { get; init; }

    public IReadOnlyList<string>? Entrypoint { get; init; }

    public IReadOnlyList<string>? Args { get; init; }

    /// <summary>How messages name this entry: <c>builds[0] (id app)</c>.</summary>
    public string Describe() => Id is null ? $"builds[{Index}]" : $"builds[{Index}] (id {Id})";
}

/// <summary>
/// A parsed <c>.ko.yaml</c> (or <c>.ko.yml</c>, or the file <c>KO_CONFIG_PATH</c> names): ko's keys plus the image
/// keys ko lacks. <see cref="Load"/> reports malformed YAML with file:line:column, wrong types as errors, and unknown
/// keys as warnings that suggest the nearest known key.
/// </summary>
internal sealed record KoConfigFile
{
    public static readonly KoConfigFile Empty = new();

    /// <summary>The file read, or null when there is none.</summary>
    public string? Path { get; init; }

    public string? DefaultBaseImage { get; init; }

    /// <summary>Base image per lower-cased import path.</summary>
    public IReadOnlyDictionary<string, string> BaseImageOverrides { get; init; } = new Dictionary<string, string>();

    public IReadOnlyList<string> DefaultPlatforms { get; init; } = [];

    public IReadOnlyList<string>? DefaultEnv { get; init; }

    public IReadOnlyList<string>? DefaultFlags { get; init; }

    public IReadOnlyList<string>? DefaultLdflags { get; init; }

    public IReadOnlyDictionary<string, string>? DefaultLabels { get; init; }

    public IReadOnlyDictionary<string, string>? DefaultAnnotations { get; init; }

    public string? DefaultUser { get; init; }

    public IReadOnlyList<string>? DefaultImageEnv { get; init; }

    public IReadOnlyList<string>? DefaultEntrypoint { get; init; }

    public IReadOnlyList<string>? DefaultArgs { get; init; }

    public IReadOnlyList<KoBuildConfig> Builds { get; init; } = [];

    /// <summary>Warnings found while reading (unknown keys), for the caller to log.</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];

    internal static readonly string[] TopKeys =
    [
        "defaultBaseImage", "baseImageOverrides", "defaultPlatforms", "defaultEnv", "defaultFlags", "defaultLdflags",
        "defaultLabels", "defaultAnnotations", "defaultUser", "defaultImageEnv", "defaultEntrypoint", "defaultArgs", "builds",
    ];

    internal static readonly string[] BuildKeys =
    [
        "id", "dir", "main", "env", "flags", "ldflags", "linux_capabilities",
        "labels", "annotations", "user", "imageEnv", "entrypoint", "args",
    ];

    /// <summary>
    /// Finds the configuration: <c>KO_CONFIG_PATH</c> (a file, or a directory holding <c>.ko.yaml</c>/<c>.ko.yml</c>),
    /// else <c>.ko.yaml</c>/<c>.ko.yml</c> in the working directory. Null when there is none.
    /// </summary>
    public static string? Locate(string workingDirectory, string? configPath)
    {
        if (!string.IsNullOrWhiteSpace(configPath))
        {
            var full = System.IO.Path.GetFullPath(configPath, workingDirectory);
            if (File.Exists(full))
            {
                return full;
            }

            if (Directory.Exists(full))
            {
                return FindIn(full) ?? throw new KoException(KoErrorCodes.ConfigWrongType, $"KO_CONFIG_PATH={configPath} is a directory without .ko.yaml or .ko.yml; point it at the file, or put one there.");
            }

            throw new KoException(KoErrorCodes.ConfigWrongType, $"KO_CONFIG_PATH={configPath} does not exist; point it at a .ko.yaml file or the directory that holds one.");
        }

        return FindIn(workingDirectory);
    }

    private static string? FindIn(string dir) =>
        new[] { ".ko.yaml", ".ko.yml" }.Select(n => System.IO.Path.Combine(dir, n)).FirstOrDefault(File.Exists);

    public static KoConfigFile Load(string path)
    {
        string text;
        try
        {
            text = ReadBounded(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.ConfigWrongType, $"{path} cannot be read: {Util.SystemMessage.Of(ex)}", ex);
        }

        return Parse(text, path);
    }

    // A regular file of bounded size: a FIFO blocks its opener for ever, a link to /dev/zero never ends.
    private static string ReadBounded(string path)
    {
        var kind = Util.UnixFileStatus.KindOf(path, followLinks: true);
        if (kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
        {
            throw new KoException(KoErrorCodes.ConfigWrongType, $"{path} is {Util.UnixFileStatus.Describe(kind)}, not a regular file; make it a file (or point KO_CONFIG_PATH elsewhere).");
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = stream.Read(chunk)) > 0)
        {
            if (buffer.Length + n > MaxBytes)
            {
                throw new KoException(KoErrorCodes.ConfigWrongType, $"{path} is larger than {MaxBytes >> 20} MiB, far more than any .ko.yaml needs; fix the file (or point KO_CONFIG_PATH elsewhere).");
            }

            buffer.Write(chunk, 0, n);
        }

        buffer.Position = 0;
        using var reader = new StreamReader(buffer, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    /// <summary>How many bytes <c>.ko.yaml</c> may hold.</summary>
    public const long MaxBytes = 4L << 20;

    /// <summary>How deep mappings and sequences may nest in <c>.ko.yaml</c> (ko's keys need four levels).</summary>
    public const int MaxDepth = 64;

    public static KoConfigFile Parse(string text, string path)
    {
        var stream = new YamlStream();
        var parser = new GuardedYamlParser(new Parser(new StringReader(text)), MaxDepth);
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            var inner = ex.InnerException is YamlException i && i.Message.Length > 0 ? i.Message : ex.Message;
            throw new KoException(KoErrorCodes.ConfigSyntax, $"{path}:{ex.Start.Line}:{ex.Start.Column}: malformed YAML: {inner}. Fix the file (or point KO_CONFIG_PATH elsewhere).", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner fails this way on some unterminated flow collections (and on some malformed tags
            // or escapes); name the last good position.
            throw new KoException(KoErrorCodes.ConfigSyntax, $"{path}:{parser.Last.Line}:{parser.Last.Column}: malformed YAML after this point (an unclosed flow collection or quote?). Fix the file (or point KO_CONFIG_PATH elsewhere).", ex);
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" or "~" or "null" })
        {
            return new KoConfigFile { Path = path };
        }

        var reader = new Reader(path);
        var root = reader.Mapping(stream.Documents[0].RootNode, "the document");
        var config = new KoConfigFile { Path = path };
        foreach (var (keyNode, value) in root.Children)
        {
            var key = reader.Key(keyNode);
            config = key switch
            {
                "defaultBaseImage" => config with { DefaultBaseImage = reader.String(value, key) },
                "baseImageOverrides" => config with { BaseImageOverrides = reader.Map(value, key).ToDictionary(kv => kv.Key.ToLowerInvariant(), kv => kv.Value, StringComparer.Ordinal) },
                "defaultPlatforms" => config with { DefaultPlatforms = reader.List(value, key, splitCommas: true) },
                "defaultEnv" => config with { DefaultEnv = reader.EnvList(value, key, scalarIsWhitespaceList: true) },
                "defaultFlags" => config with { DefaultFlags = reader.List(value, key, splitWhiteSpace: true) },
                "defaultLdflags" => config with { DefaultLdflags = reader.List(value, key) },
                "defaultLabels" => config with { DefaultLabels = reader.Map(value, key) },
                "defaultAnnotations" => config with { DefaultAnnotations = reader.Map(value, key) },
                "defaultUser" => config with { DefaultUser = reader.String(value, key) },
                "defaultImageEnv" => config with { DefaultImageEnv = reader.EnvList(value, key) },
                "defaultEntrypoint" => config with { DefaultEntrypoint = reader.List(value, key) },
                "defaultArgs" => config with { DefaultArgs = reader.List(value, key) },
                "builds" => config with { Builds = reader.Sequence(value, key).Select((n, i) => ReadBuild(reader, n, i)).ToList() },
                _ => reader.Unknown(keyNode, key, TopKeys, config),
            };
        }

        return config with { Warnings = reader.Warnings };
    }

    private static KoBuildConfig ReadBuild(Reader reader, YamlNode node, int index)
    {
        var where = $"builds[{index}]";
        var build = new KoBuildConfig { Index = index };
        foreach (var (keyNode, value) in reader.Mapping(node, where).Children)
        {
            var key = reader.Key(keyNode);
            var at = $"{where}.{key}";
            build = key switch
            {
                "id" => build with { Id = reader.String(value, at) },
                "dir" => build with { Dir = reader.String(value, at) },
                "main" => build with { Main = reader.String(value, at) },
                "env" => build with { Env = reader.EnvList(value, at) },
                "flags" => build with { Flags = reader.List(value, at, splitWhiteSpace: true) },
                "ldflags" => build with { Ldflags = reader.List(value, at) },
                "linux_capabilities" => build with { LinuxCapabilities = reader.List(value, at, splitWhiteSpace: true) },
                "labels" => build with { Labels = reader.Map(value, at) },
                "annotations" => build with { Annotations = reader.Map(value, at) },
                "user" => build with { User = reader.String(value, at) },
                "imageEnv" => build with { ImageEnv = reader.EnvList(value, at) },
                "entrypoint" => build with { Entrypoint = reader.List(value, at) },
                "args" => build with { Args = reader.List(value, at) },
                _ => reader.Unknown(keyNode, at, BuildKeys, build),
            };
        }

        return build;
    }

    /// <summary>The known key closest to <paramref name="key"/> (case-insensitive edit distance), if any is close.</summary>
    internal static string? Nearest(string key, IEnumerable<string> known)
    {
        var best = known.Select(k => (k, d: Distance(key.ToLowerInvariant(), k.ToLowerInvariant()))).MinBy(x => x.d);
        return best.k is not null && best.d <= Math.Max(2, key.Length / 3) ? best.k : null;
    }

    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++)
        {
            d[i, 0] = i;
        }

        for (var j = 0; j <= b.Length; j++)
        {
            d[0, j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
        }

        return d[a.Length, b.Length];
    }

    private sealed class Reader(string path)
    {
        public List<string> Warnings { get; } = [];

        private string At(YamlNode node) => $"{path}:{node.Start.Line}:{node.Start.Column}";

        private KoException Wrong(YamlNode node, string key, string expected) =>
            new(KoErrorCodes.ConfigWrongType, $"{At(node)}: {key} must be {expected}, not {Describe(node)}. Fix the value in {path}.");

        private static string Describe(YamlNode node) => node switch
        {
            YamlMappingNode => "a mapping",
            YamlSequenceNode => "a list",
            YamlScalarNode s => $"'{s.Value}'",
            _ => "this value",
        };

        public string Key(YamlNode node) => node is YamlScalarNode { Value: { } v } ? v : throw Wrong(node, "a key", "a plain name");

        public T Unknown<T>(YamlNode keyNode, string key, string[] known, T unchanged)
        {
            var name = key.Split('.')[^1];
            var nearest = Nearest(name, known);
            Warnings.Add($"{At(keyNode)}: unknown key '{key}' is ignored" + (nearest is null ? "." : $"; did you mean '{nearest}'?"));
            return unchanged;
        }

        public YamlMappingNode Mapping(YamlNode node, string key) => node as YamlMappingNode ?? throw Wrong(node, key, "a mapping of keys to values");

        public IEnumerable<YamlNode> Sequence(YamlNode node, string key) => node is YamlSequenceNode s ? s.Children : throw Wrong(node, key, "a list");

        public string? String(YamlNode node, string key)
        {
            if (node is not YamlScalarNode s)
            {
                throw Wrong(node, key, "a string");
            }

            return IsNull(s) ? null : s.Value;
        }

        public IReadOnlyList<string> List(YamlNode node, string key, bool splitWhiteSpace = false, bool splitCommas = false)
        {
            if (node is YamlScalarNode s)
            {
                if (IsNull(s))
                {
                    return [];
                }

                // One string: split on white space (flags, capabilities, as ko) or commas (platforms); else one item.
                var v = s.Value ?? string.Empty;
                return splitWhiteSpace ? v.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
                    : splitCommas ? v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    : [v];
            }

            if (node is YamlSequenceNode seq)
            {
                return seq.Children.Select((c, i) => c is YamlScalarNode { Value: { } v } ? v : throw Wrong(c, $"{key}[{i}]", "a string")).ToList();
            }

            throw Wrong(node, key, "a list of strings or one string");
        }

        /// <summary>
        /// KEY=VALUE items: a list of strings, or a mapping (turned into KEY=VALUE in order). With
        /// <paramref name="scalarIsWhitespaceList"/>, one string is read as ko reads <c>defaultEnv</c> (viper's
        /// GetStringSlice in pkg/commands/options/build.go): items separated by white space.
        /// </summary>
        public IReadOnlyList<string> EnvList(YamlNode node, string key, bool scalarIsWhitespaceList = false)
        {
            if (node is YamlMappingNode)
            {
                return Map(node, key).Select(kv => kv.Key + "=" + kv.Value).ToList();
            }

            var list = node is YamlScalarNode s && !IsNull(s)
                ? scalarIsWhitespaceList ? s.Value!.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries) : throw Wrong(node, key, "a list of KEY=VALUE strings")
                : List(node, key);
            foreach (var item in list.Where(i => i.IndexOf('=', StringComparison.Ordinal) <= 0))
            {
                throw new KoException(KoErrorCodes.ConfigWrongType, $"{At(node)}: {key} item '{item}' is not KEY=VALUE. Fix the value in {path}.");
            }

            return list;
        }

        public IReadOnlyDictionary<string, string> Map(YamlNode node, string key)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var (k, v) in Mapping(node, key).Children)
            {
                var name = Key(k);
                result[name] = v is YamlScalarNode { Value: { } value } ? value : throw Wrong(v, $"{key}.{name}", "a string");
            }

            return result;
        }

        private static bool IsNull(YamlScalarNode s) =>
            s.Style == YamlDotNet.Core.ScalarStyle.Plain && (s.Value is null or "" or "~" or "null" or "Null" or "NULL");
    }
}
