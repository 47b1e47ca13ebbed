using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Ko.Engine.Configuration;

/// <summary>
/// Passes a parser's events to YamlDotNet's representation model, refusing (as a <see cref="YamlException"/> at the
/// offending node) what would make the model recurse without end or for too long, before it is built:
/// <list type="bullet">
/// <item>a mapping or sequence nested deeper than the limit;</item>
/// <item>an alias inside the very node its anchor names (<c>&amp;a [*a]</c>): the model builds a list that holds
/// itself, and hashing it as a key overflows the stack, which no handler can catch;</item>
/// <item>a mapping key that is a list or mapping, or an alias of one: hashing such a key walks all of it, and
/// through nested aliases that walk grows exponentially. Keys in <c>.ko.yaml</c> are plain names.</item>
/// </list>
/// </summary>
internal sealed class GuardedYamlParser(IParser inner, int maxDepth) : IParser
{
    private sealed class Frame(bool mapping)
    {
        public bool Mapping { get; } = mapping;

        public bool ExpectKey { get; set; } = true;

        public bool Closed { get; set; }
    }

    private readonly Stack<Frame> _open = new();

    // Each anchor's latest definition (YAML lets a name be defined again): the collection's frame, or null for a
    // scalar. An alias names the collection that is still open (itself) or a list or mapping, or neither.
    private readonly Dictionary<string, Frame?> _anchors = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public ParsingEvent? Current => inner.Current;

    /// <summary>The end of the last event read, for errors the parser cannot place itself.</summary>
    public Mark Last { get; private set; } = Mark.Empty;

    /// <inheritdoc />
    public bool MoveNext()
    {
        if (!inner.MoveNext())
        {
            return false;
        }

        var current = inner.Current!;
        Last = current.End;
        switch (current)
        {
            case MappingStart or SequenceStart:
                Open((NodeEvent)current);
                break;
            case MappingEnd or SequenceEnd:
                Close();
                break;
            case AnchorAlias alias:
                Alias(alias);
                break;
            case Scalar scalar:
                Define(scalar, null);
                Completed();
                break;
            case DocumentEnd:
                _anchors.Clear();
                break;
        }

        return true;
    }

    private void Open(NodeEvent start)
    {
        if (InKeyPosition)
        {
            throw new YamlException(start.Start, start.End, "a mapping key is a list or mapping; .ko.yaml keys are plain names");
        }

        if (_open.Count >= maxDepth)
        {
            throw new YamlException(start.Start, start.End, $"the YAML nests deeper than {maxDepth} levels; .ko.yaml needs no more than a few");
        }

        var frame = new Frame(start is MappingStart);
        Define(start, frame);
        _open.Push(frame);
    }

    private void Define(NodeEvent node, Frame? frame)
    {
        if (!node.Anchor.IsEmpty)
        {
            _anchors[node.Anchor.Value] = frame;
        }
    }

    private void Close()
    {
        if (_open.TryPop(out var frame))
        {
            frame.Closed = true;
        }

        Completed();
    }

    private void Alias(AnchorAlias alias)
    {
        var name = alias.Value.Value;
        var target = _anchors.GetValueOrDefault(name);
        if (target is { Closed: false })
        {
            throw new YamlException(alias.Start, alias.End, $"the alias *{name} is inside the node that &{name} names, so that node would contain itself");
        }

        if (InKeyPosition && target is not null)
        {
            throw new YamlException(alias.Start, alias.End, $"a mapping key is the alias *{name} of a list or mapping; .ko.yaml keys are plain names");
        }

        Completed();
    }

    private bool InKeyPosition => _open.TryPeek(out var parent) && parent.Mapping && parent.ExpectKey;

    // A node ended: in a mapping, a key is followed by its value and a value by the next key.
    private void Completed()
    {
        if (_open.TryPeek(out var parent) && parent.Mapping)
        {
            parent.ExpectKey = !parent.ExpectKey;
        }
    }
}
