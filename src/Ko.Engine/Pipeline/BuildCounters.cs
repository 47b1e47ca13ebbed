using Ko.Engine.Sinks;

namespace Ko.Engine.Pipeline;

/// <summary>What a run did, counted by concurrent stages.</summary>
internal sealed class BuildCounters
{
    private int _goBuilds;
    private int _layersWritten;
    private int _layersReused;
    private readonly object _pushLock = new();
    private PushOutcome _pushed;

    public void GoBuild() => Interlocked.Increment(ref _goBuilds);

    public void Layer(bool fromCache) => Interlocked.Increment(ref fromCache ? ref _layersReused : ref _layersWritten);

    public void Pushed(PushOutcome outcome)
    {
        lock (_pushLock)
        {
            _pushed += outcome;
        }
    }

    public KoBuildStatistics Statistics()
    {
        lock (_pushLock)
        {
            return new(_goBuilds, _layersWritten, _layersReused, _pushed.BlobsUploaded, _pushed.BlobsSkipped, _pushed.BlobsMounted);
        }
    }
}
