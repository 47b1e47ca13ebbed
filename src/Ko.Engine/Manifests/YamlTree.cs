using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ko.Engine.Manifests;

/// <summary>The kind of a node read from YAML.</summary>
internal enum YamlNodeKind
{
    Scalar,
    Mapping,
    Sequence,
}

/// <summary>
/// A node of a YAML document with the character positions it was read from. Mappings keep keys and values
/// alternating in <see cref="Items"/>; an alias is the anchored node itself.
/// </summary>
internal sealed class YamlNode
{
    public required YamlNodeKind Kind { get; init; }

    public string Value { get; init; } = string.Empty;

    public ScalarStyle Style { get; init; }

    public bool Flow { get; init; }

    public required int Start { get; init; }

    public int End { get; set; }

    public List<YamlNode> Items { get; } = [];

    /// <summary>How many nodes this one stands for with every alias below it expanded (set when the node is complete).</summary>
    public long Weight { get; set; } = 1;

    public bool IsNullScalar => Kind == YamlNodeKind.Scalar && Style == ScalarStyle.Plain && Value is "" or "~" or "null" or "Null" or "NULL";

    /// <summary>The value of <paramref name="key"/> in a mapping, else null.</summary>
    public YamlNode? Get(string key)
    {
        if (Kind != YamlNodeKind.Mapping)
        {
            return null;
        }

        for (var i = 0; i + 1 < Items.Count; i += 2)
        {
            if (Items[i].Kind == YamlNodeKind.Scalar && Items[i].Value == key)
            {
                return Items[i + 1];
            }
        }

        return null;
    }

    /// <summary>The string value of a scalar at <paramref name="key"/>, else null.</summary>
    public string? GetString(string key) => Get(key) is { Kind: YamlNodeKind.Scalar, IsNullScalar: false } n ? n.Value : null;
}

/// <summary>One YAML document: its character range in the file and its root (null for an empty document).</summary>
internal sealed record YamlDocumentInfo(int Start, int End, bool ExplicitStart, YamlNode? Root);

/// <summary>A <c>ko://</c> string scalar: the replaced character range and where it was written.</summary>
/// <param name="ImportPath">The import path after <c>ko://</c>.</param>
/// <param name="Start">First replaced character (inside the quotes of a quoted scalar).</param>
/// <param name="End">One past the last replaced character.</param>
/// <param name="Line">1-based line of the scalar.</param>
/// <param name="Column">1-based column of the scalar.</param>
internal sealed record KoReferenceSite(string ImportPath, int Start, int End, int Line, int Column);

/// <summary>Reads YAML (and JSON) with YamlDotNet's parser events, keeping every position.</summary>
internal static class YamlTree
{
    public const string Prefix = "ko://";

    /// <summary>How deep mappings and sequences may nest; deeper input is refused before anything walks it.</summary>
    public const int MaxDepth = 200;

    /// <summary>
    /// How many nodes a document may stand for with its aliases expanded: a few anchors aliased from each other
    /// ("billion laughs") would otherwise expand to billions of nodes in anything that walks the tree.
    /// </summary>
    public const long MaxExpandedNodes = 1_000_000;

    /// <summary>Parses every document of <paramref name="text"/> and finds the <c>ko://</c> scalars.</summary>
    /// <exception cref="KoException"><c>KO4001</c> for invalid YAML, <c>KO4004</c> for an empty reference.</exception>
    public static (IReadOnlyList<YamlDocumentInfo> Documents, IReadOnlyList<KoReferenceSite> References) Parse(string source, string text)
    {
        var builder = new TreeBuilder(source, text);
        var parser = new Parser(new StringReader(text));
        var last = Mark.Empty;
        try
        {
            while (parser.MoveNext())
            {
                last = parser.Current!.End;
                builder.On(parser.Current);
            }
        }
        catch (YamlException ex)
        {
            throw new KoException(KoErrorCodes.InvalidManifest, $"{source}:{ex.Start.Line}:{ex.Start.Column}: invalid YAML: {ex.Message}. Fix the file; resolve reads YAML and JSON documents.", ex);
        }
        catch (Exception ex) when (ex is InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            // YamlDotNet's scanner fails this way on some unterminated flow collections (and on some malformed tags
            // or escapes); name the last good position.
            throw new KoException(KoErrorCodes.InvalidManifest, $"{source}:{last.Line}:{last.Column}: invalid YAML after this point (an unclosed flow collection or quote?). Fix the file; resolve reads YAML and JSON documents.", ex);
        }

        return (builder.Documents, builder.References);
    }

    /// <summary>Builds the node tree of each document from the parser's events, one event at a time.</summary>
    private sealed class TreeBuilder(string source, string text)
    {
        private readonly Dictionary<string, YamlNode> _anchors = new(StringComparer.Ordinal);
        private readonly Stack<YamlNode> _stack = new();
        private YamlNode? _root;
        private int _docStart;
        private bool _explicitStart;

        public List<YamlDocumentInfo> Documents { get; } = [];

        public List<KoReferenceSite> References { get; } = [];

        public void On(ParsingEvent ev)
        {
            switch (ev)
            {
                case DocumentStart ds:
                    _docStart = (int)ds.Start.Index;
                    _explicitStart = !ds.IsImplicit;
                    _root = null;
                    _anchors.Clear();
                    break;
                case DocumentEnd de:
                    Documents.Add(new YamlDocumentInfo(_docStart, (int)de.End.Index, _explicitStart, _root));
                    break;
                case Scalar s:
                    OnScalar(s);
                    break;
                case AnchorAlias alias:
                    OnAlias(alias);
                    break;
                case MappingStart or SequenceStart when _stack.Count >= MaxDepth:
                    throw new KoException(KoErrorCodes.InvalidManifest, $"{source}:{ev.Start.Line}:{ev.Start.Column}: the YAML nests deeper than {MaxDepth} levels. Fix the file; no Kubernetes object is that deep.");
                case MappingStart ms:
                    Open(new YamlNode { Kind = YamlNodeKind.Mapping, Flow = ms.Style == MappingStyle.Flow, Start = (int)ms.Start.Index }, ms.Anchor);
                    break;
                case SequenceStart ss:
                    Open(new YamlNode { Kind = YamlNodeKind.Sequence, Flow = ss.Style == SequenceStyle.Flow, Start = (int)ss.Start.Index }, ss.Anchor);
                    break;
                case MappingEnd or SequenceEnd:
                    Close(ev);
                    break;
            }
        }

        private void OnScalar(Scalar s)
        {
            var node = new YamlNode { Kind = YamlNodeKind.Scalar, Value = s.Value, Style = s.Style, Start = (int)s.Start.Index, End = (int)s.End.Index };
            Add(node, s.Anchor);
            if (!s.Value.StartsWith(Prefix, StringComparison.Ordinal) || s.Style is not (ScalarStyle.Plain or ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted))
            {
                return;
            }

            var path = s.Value[Prefix.Length..].Trim();
            if (path.Length == 0)
            {
                throw new KoException(KoErrorCodes.InvalidReference, $"{source}:{s.Start.Line}:{s.Start.Column}: '{s.Value}' names no import path: write ko://<import path of a package main>.");
            }

            // The event starts at the node's properties (&anchor, !tag), which stay as written.
            var quoted = s.Style != ScalarStyle.Plain;
            var start = ContentStart(text, node.Start, node.End);
            start = quoted ? text.IndexOf(text[node.End - 1], start, node.End - start) : text.IndexOf(Prefix, start, node.End - start, StringComparison.Ordinal);
            References.Add(new KoReferenceSite(path, start + (quoted ? 1 : 0), node.End - (quoted ? 1 : 0), (int)s.Start.Line, (int)s.Start.Column));
        }

        private void OnAlias(AnchorAlias alias)
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var target))
            {
                Add(new YamlNode { Kind = YamlNodeKind.Scalar, Start = (int)alias.Start.Index, End = (int)alias.End.Index }, AnchorName.Empty);
                return;
            }

            if (_stack.Contains(target))
            {
                // The node would hold itself: anything that walks it (the JSON for the API server) never ends.
                throw new KoException(KoErrorCodes.InvalidManifest, $"{source}:{alias.Start.Line}:{alias.Start.Column}: the alias *{alias.Value.Value} is inside the node that &{alias.Value.Value} names, so that node would contain itself. Fix the file; write the value out instead.");
            }

            Add(target, AnchorName.Empty);
        }

        private void Open(YamlNode node, AnchorName anchor)
        {
            Add(node, anchor);
            _stack.Push(node);
        }

        private void Close(ParsingEvent ev)
        {
            var node = _stack.Pop();
            node.End = (int)ev.End.Index;
            node.Weight = 1 + node.Items.Sum(i => i.Weight);
            if (node.Weight > MaxExpandedNodes)
            {
                throw new KoException(KoErrorCodes.InvalidManifest, $"{source}:{ev.End.Line}:{ev.End.Column}: this collection expands to more than {MaxExpandedNodes:N0} nodes through its aliases (*name). Fix the file; write the objects out or use fewer aliases.");
            }
        }

        private void Add(YamlNode node, AnchorName anchor)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = node;
            }

            if (_stack.Count == 0)
            {
                _root = node;
            }
            else
            {
                _stack.Peek().Items.Add(node);
            }
        }

        // Skips a node's properties (an anchor "&a" and a tag "!t", in either order), the white space and comments
        // after them, to where the scalar's text begins.
        private static int ContentStart(string text, int start, int end)
        {
            var i = start;
            while (i < end && text[i] is '&' or '!')
            {
                while (i < end && !IsYamlSpace(text[i]))
                {
                    i++;
                }

                while (i < end && (IsYamlSpace(text[i]) || text[i] == '#'))
                {
                    i = text[i] == '#' ? LineEnd(text, i, end) : i + 1;
                }
            }

            return i;
        }

        private static int LineEnd(string text, int i, int end)
        {
            while (i < end && text[i] != '\n')
            {
                i++;
            }

            return i;
        }

        // YAML's white space and line breaks; other Unicode spaces belong to anchors, tags and text.
        private static bool IsYamlSpace(char c) => c is ' ' or '\t' or '\r' or '\n';
    }
}
