using System.IO.Enumeration;
using System.Text;

namespace Ko.Engine.Manifests;

/// <summary>
/// One YAML or JSON input as written: its text, documents and <c>ko://</c> references. Rendering replaces only
/// the references' character ranges, so comments, quoting, anchors, block scalars and line ends stay exactly.
/// </summary>
internal sealed class ManifestFile
{
    private ManifestFile(string source, string text, IReadOnlyList<YamlDocumentInfo> documents, IReadOnlyList<KoReferenceSite> references)
    {
        Source = source;
        Text = text;
        Documents = documents;
        References = references;
    }

    /// <summary>The file name as given (<c>-</c> for standard input).</summary>
    public string Source { get; }

    /// <summary>The text as read (without a UTF-8 byte order mark).</summary>
    public string Text { get; }

    public IReadOnlyList<YamlDocumentInfo> Documents { get; }

    public IReadOnlyList<KoReferenceSite> References { get; }

    /// <summary>Parses <paramref name="text"/> read from <paramref name="source"/>.</summary>
    public static ManifestFile Parse(string source, string text)
    {
        var (documents, references) = YamlTree.Parse(source, text);
        return new ManifestFile(source, text, documents, references);
    }

    /// <summary>
    /// The text with every reference replaced by <paramref name="resolved"/>[import path]; with a selector, only
    /// the documents (and <c>List</c> items) whose <c>metadata.labels</c> match, separated by <c>---</c>.
    /// </summary>
    public string Render(IReadOnlyDictionary<string, string> resolved, LabelSelector? selector = null)
    {
        var edits = References.Select(r => new Edit(r.Start, r.End, resolved.TryGetValue(r.ImportPath, out var v) ? v : throw new KeyNotFoundException(r.ImportPath))).ToList();
        if (selector is null)
        {
            return Apply(0, Text.Length, edits);
        }

        var sb = new StringBuilder();
        foreach (var doc in Documents)
        {
            // As ko's MatchesSelector (pkg/resolve/selector.go): an empty or null document is skipped; anything else
            // must be a Kubernetes object (apiVersion and kind), and a List's items too, or the selector is an error.
            if (doc.Root is null || doc.Root.IsNullScalar)
            {
                continue;
            }

            RequireObject(doc.Root, "a document");
            var docEdits = new List<Edit>(edits);
            if (IsList(doc.Root) || doc.Root.GetString("kind") == "List")
            {
                var items = doc.Root.Get("items");
                if (items is null || items.Kind != YamlNodeKind.Sequence)
                {
                    throw new KoException(KoErrorCodes.SelectorOnNonObject, $"{Source}:{LineOf(doc.Root.Start)}: this {doc.Root.GetString("kind")} has no list of items, so --selector cannot be matched against it (ko: \"yaml is not a valid k8s list\"). Fix the document or drop --selector.");
                }

                foreach (var item in items.Items)
                {
                    RequireObject(item, "a List item");
                }

                var removed = items.Items.Where(i => !selector.Matches(Labels(i))).ToList();
                if (removed.Count == items.Items.Count && items.Items.Count > 0)
                {
                    continue;
                }

                foreach (var item in removed)
                {
                    var (start, end) = items.Flow ? FlowItemRange(items, item) : BlockItemRange(items, item);
                    docEdits.RemoveAll(e => e.Start >= start && e.End <= end);
                    docEdits.Add(new Edit(start, end, string.Empty));
                }
            }
            else if (!selector.Matches(Labels(doc.Root)))
            {
                continue;
            }

            // The document from its first node (or its "---") to its end; a separator before every document but the first.
            var start0 = doc.Start;
            var body = Apply(start0, doc.End, docEdits);
            if (body.StartsWith("---", StringComparison.Ordinal))
            {
                var nl = body.IndexOf('\n', StringComparison.Ordinal);
                body = nl < 0 ? string.Empty : body[(nl + 1)..];
            }

            if (sb.Length > 0)
            {
                sb.Append("---\n");
            }

            sb.Append(body);
            if (body.Length > 0 && !body.EndsWith('\n'))
            {
                sb.Append('\n');
            }
        }

        return sb.ToString();
    }

    private void RequireObject(YamlNode node, string what)
    {
        if (node.Kind != YamlNodeKind.Mapping || node.GetString("apiVersion") is null || node.GetString("kind") is null)
        {
            throw new KoException(KoErrorCodes.SelectorOnNonObject, $"{Source}:{LineOf(node.Start)}: {what} here is not a Kubernetes object (a mapping with apiVersion and kind), so --selector cannot be matched against it (ko: \"yaml doesn't represent a k8s object\"). Fix or remove it, or drop --selector.");
        }
    }

    private int LineOf(int offset) => 1 + Text.AsSpan(0, Math.Min(offset, Text.Length)).Count('\n');

    /// <summary>The labels of an object (a mapping); empty when it has none.</summary>
    public static IReadOnlyDictionary<string, string> Labels(YamlNode obj)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj.Get("metadata")?.Get("labels") is { Kind: YamlNodeKind.Mapping } labels)
        {
            for (var i = 0; i + 1 < labels.Items.Count; i += 2)
            {
                if (labels.Items[i].Kind == YamlNodeKind.Scalar && labels.Items[i + 1].Kind == YamlNodeKind.Scalar)
                {
                    result[labels.Items[i].Value] = labels.Items[i + 1].IsNullScalar ? string.Empty : labels.Items[i + 1].Value;
                }
            }
        }

        return result;
    }

    public static bool IsList(YamlNode root) =>
        root.Kind == YamlNodeKind.Mapping && root.GetString("kind") is { } kind && kind.EndsWith("List", StringComparison.Ordinal) && root.Get("items") is not null;

    private string Apply(int start, int end, List<Edit> edits)
    {
        var sb = new StringBuilder(end - start + 64);
        var pos = start;
        foreach (var e in edits.Where(e => e.Start >= start && e.End <= end).OrderBy(e => e.Start))
        {
            if (e.Start < pos)
            {
                continue;
            }

            sb.Append(Text, pos, e.Start - pos).Append(e.Replacement);
            pos = e.End;
        }

        sb.Append(Text, pos, end - pos);
        return sb.ToString();
    }

    // A block sequence item: from the start of the line holding its "-" to the start of the next item's line
    // (or the end of its last line).
    private (int Start, int End) BlockItemRange(YamlNode sequence, YamlNode item)
    {
        var start = LineStart(item.Start);
        var index = sequence.Items.IndexOf(item);
        var end = index + 1 < sequence.Items.Count ? LineStart(sequence.Items[index + 1].Start) : LineEnd(item.End);
        return (start, end);
    }

    // A flow sequence item: the item and the comma after it (the comma before it, for the last item).
    private (int Start, int End) FlowItemRange(YamlNode sequence, YamlNode item)
    {
        var index = sequence.Items.IndexOf(item);
        if (index + 1 < sequence.Items.Count)
        {
            return (item.Start, sequence.Items[index + 1].Start);
        }

        var start = item.Start;
        if (index > 0)
        {
            start = sequence.Items[index - 1].End;
        }

        return (start, item.End);
    }

    private int LineStart(int index)
    {
        var i = Math.Min(index, Text.Length);
        while (i > 0 && Text[i - 1] != '\n')
        {
            i--;
        }

        return i;
    }

    private int LineEnd(int index)
    {
        var i = Math.Max(index, 0);
        if (i > 0 && i <= Text.Length && Text[i - 1] == '\n')
        {
            return i;
        }

        while (i < Text.Length && Text[i] != '\n')
        {
            i++;
        }

        return Math.Min(i + 1, Text.Length);
    }

    private sealed record Edit(int Start, int End, string Replacement);
}

/// <summary>Reads the files, directories and standard input that <c>-f</c> names.</summary>
internal static class ManifestReader
{
    private static readonly string[] Extensions = [".yaml", ".yml", ".json"];

    /// <summary>How many bytes (characters on standard input) one input may hold; an endless one (/dev/zero, a pipe) stops here.</summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>Reads and parses every input in order: directories give their YAML and JSON files sorted by path.</summary>
    public static async Task<IReadOnlyList<ManifestFile>> ReadAsync(IReadOnlyList<string> inputs, bool recursive, TextReader? standardInput, CancellationToken cancellationToken)
    {
        if (inputs.Count == 0)
        {
            throw new KoException(KoErrorCodes.ManifestUnreadable, "no file was given: name YAML files or directories with -f (or -f - for standard input).");
        }

        var files = new List<ManifestFile>();
        foreach (var input in inputs)
        {
            if (input == "-")
            {
                var text = await ReadStandardInputAsync(standardInput ?? Console.In, cancellationToken).ConfigureAwait(false);
                files.Add(ManifestFile.Parse("-", text));
                continue;
            }

            if (Directory.Exists(input))
            {
                var found = YamlFilesUnder(input, recursive)
                    .Where(f => Extensions.Contains(Path.GetExtension(f), StringComparer.OrdinalIgnoreCase))
                    .Order(StringComparer.Ordinal)
                    .ToList();
                foreach (var file in found)
                {
                    // A pipe named with -f is read; one found in a directory would block the run until a writer comes.
                    if (Util.UnixFileStatus.KindOf(file, followLinks: true) is var kind && kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
                    {
                        throw new KoException(KoErrorCodes.ManifestUnreadable, $"{file} is {Util.UnixFileStatus.Describe(kind)}, not a regular file; a directory given with -f is read for its YAML and JSON files only. Remove it, or name it with -f on its own.");
                    }

                    files.Add(ManifestFile.Parse(file, await ReadFileAsync(file, cancellationToken).ConfigureAwait(false)));
                }

                continue;
            }

            files.Add(ManifestFile.Parse(input, await ReadFileAsync(input, cancellationToken).ConfigureAwait(false)));
        }

        return files;
    }

    private static async Task<string> ReadFileAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await ReadBoundedAsync(path, cancellationToken).ConfigureAwait(false);
            var skip = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
            return new UTF8Encoding(false, true).GetString(bytes, skip, bytes.Length - skip);
        }
        catch (DecoderFallbackException ex)
        {
            throw new KoException(KoErrorCodes.ManifestUnreadable, $"cannot read {path}: it is not UTF-8 text (byte offset {ex.Index}). Save it as UTF-8; YAML and JSON inputs must be UTF-8.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.ManifestUnreadable, $"cannot read {path}: {Util.SystemMessage.Of(ex)} Name an existing, readable YAML or JSON file or directory.", ex);
        }
    }

    // Links to files are read (as kubectl and ko do); links to directories are not walked into: a link back up
    // would repeat every file once per level, a link to / would read the whole machine.
    private static IEnumerable<string> YamlFilesUnder(string directory, bool recursive) =>
        new FileSystemEnumerable<string>(directory, (ref FileSystemEntry e) => e.ToSpecifiedFullPath(), new EnumerationOptions { RecurseSubdirectories = recursive, AttributesToSkip = 0 })
        {
            ShouldIncludePredicate = (ref FileSystemEntry e) => !e.IsDirectory,
            ShouldRecursePredicate = (ref FileSystemEntry e) => (e.Attributes & FileAttributes.ReparsePoint) == 0,
        };

    private static async Task<byte[]> ReadBoundedAsync(string path, CancellationToken cancellationToken)
    {
        // Not File.ReadAllBytes: a device or pipe has no length, and /dev/zero never ends.
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var buffer = new MemoryStream();
        var chunk = new byte[1 << 16];
        int n;
        while ((n = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + n > MaxBytes)
            {
                throw TooLarge(path);
            }

            buffer.Write(chunk, 0, n);
        }

        return buffer.ToArray();
    }

    private static async Task<string> ReadStandardInputAsync(TextReader reader, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var chunk = new char[1 << 16];
        int n;
        while ((n = await reader.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (text.Length + n > MaxBytes)
            {
                throw TooLarge("standard input");
            }

            text.Append(chunk, 0, n);
        }

        return text.ToString();
    }

    private static KoException TooLarge(string source) =>
        new(KoErrorCodes.ManifestUnreadable, $"{source} holds more than {MaxBytes >> 20} MiB of YAML, more than resolve reads from one input. Split it into several files.");

    /// <summary>
    /// Joins rendered files as one stream as ko writes it (pkg/commands/resolver.go ResolveFilesToWriter): each
    /// file's documents, then a <c>---</c> line, so the stream ends with <c>---</c> and a reader streaming it
    /// to kubectl knows the last object is complete. A file that rendered to nothing adds nothing.
    /// </summary>
    public static string Join(IEnumerable<string> rendered)
    {
        var sb = new StringBuilder();
        foreach (var text in rendered)
        {
            var body = text;
            if (body.Length == 0)
            {
                continue;
            }

            if (sb.Length > 0 && body.StartsWith("---", StringComparison.Ordinal) && (body.Length == 3 || body[3] is '\n' or '\r' or ' '))
            {
                // The previous file already ended with the separator this file starts with.
                var nl = body.IndexOf('\n', StringComparison.Ordinal);
                body = nl < 0 ? string.Empty : body[(nl + 1)..];
            }

            sb.Append(body);
            if (sb.Length > 0 && sb[^1] != '\n')
            {
                sb.Append('\n');
            }

            sb.Append("---\n");
        }

        return sb.ToString();
    }
}
