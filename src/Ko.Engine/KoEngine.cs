using Ko.Engine.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine;

/// <summary>
/// The engine's facade: builds Go programs into OCI images and writes them out. The faces (CLI, Cake, NUKE) turn
/// their settings into <see cref="KoBuildOptions"/> and their loggers into an <see cref="ILogger"/>.
/// </summary>
public sealed partial class KoEngine
{
    private readonly ILogger _logger;
    private readonly IProgress<KoProgress>? _progress;

    /// <summary>Creates an engine that logs to <paramref name="logger"/> and reports to <paramref name="progress"/>.</summary>
    /// <param name="logger">Where log messages go; none when null.</param>
    /// <param name="progress">Where progress goes; none when null.</param>
    public KoEngine(ILogger? logger = null, IProgress<KoProgress>? progress = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _progress = progress;
    }

    /// <summary>
    /// Builds every import path for every platform (concurrently, bounded by <see cref="KoBuildOptions.Jobs"/>),
    /// assembles images (and an index for several platforms) and writes the requested outputs atomically.
    /// </summary>
    /// <param name="options">What to build and where to put it.</param>
    /// <param name="cancellationToken">Cancels the build; running <c>go</c> processes are stopped.</param>
    /// <exception cref="KoException">Bad input, a failed build or an unwritable output, with a stable code.</exception>
    public Task<KoBuildResult> BuildAsync(KoBuildOptions options, CancellationToken cancellationToken = default) =>
        new Pipeline.BuildPipeline(_logger, _progress).RunAsync(options, cancellationToken);
}
