namespace Ko.Engine.Sinks;

/// <summary>What writing one artifact did: registry counts and the references of the artifacts attached to it.</summary>
/// <param name="Pushed">Blobs uploaded, skipped and mounted (registry sinks only).</param>
/// <param name="Attachments">References (<c>name@digest</c>) of the SBOMs attached in a registry, in order.</param>
internal sealed record SinkResult(PushOutcome Pushed, IReadOnlyList<string> Attachments)
{
    /// <summary>Nothing pushed, nothing attached (the sinks that queue).</summary>
    public static SinkResult None { get; } = new(default, []);

    /// <summary>Both results together, as a tee reports them.</summary>
    public static SinkResult operator +(SinkResult a, SinkResult b) => new(a.Pushed + b.Pushed, [.. a.Attachments, .. b.Attachments]);
}
