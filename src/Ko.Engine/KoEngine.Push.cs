using Ko.Engine.Configuration;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// Publishes an image or index built earlier (an OCI layout, an OCI archive, a docker archive, or another
    /// registry's image) to a registry, with the SBOMs stored beside it, keeping its digest: only the blobs the registry
    /// lacks are sent, base layers are mounted where they are, and a second push uploads nothing.
    /// </summary>
    /// <param name="options">What to publish and where.</param>
    /// <param name="cancellationToken">Cancels the push.</param>
    /// <exception cref="KoException">A malformed or missing source (KO3014–KO3017), no repository (KO1003), or a registry failure.</exception>
    public Task<KoPushResult> PushAsync(KoPushOptions options, CancellationToken cancellationToken = default) =>
        Pipeline.PushRun.RunAsync(options, _logger, _progress, cancellationToken);
}
