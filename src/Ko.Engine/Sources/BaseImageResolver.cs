using Ko.Engine.Layers;
using Ko.Engine.References;
using Ko.Engine.Registry;

namespace Ko.Engine.Sources;

using Ko.Engine.Images;

/// <summary>
/// Turns a base image string into a <see cref="BaseImage"/>: <c>embedded:static</c>, <c>scratch</c>,
/// <c>oci:DIR[:REF]</c>, and anything else as a registry reference <c>[REGISTRY/]REPOSITORY[:TAG][@DIGEST]</c>.
/// </summary>
internal static class BaseImageResolver
{
    public static async Task<BaseImage> ResolveAsync(string spec, string workingDirectory, ContentStore store, LayerCache cache, Func<RegistryOptions> registry, CancellationToken cancellationToken, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var s = spec.Trim();
        if (s == SyntheticBase.EmbeddedStaticName)
        {
            return await SyntheticBase.EmbeddedStaticAsync(store, cache, cancellationToken, logger).ConfigureAwait(false);
        }

        if (s == SyntheticBase.ScratchName)
        {
            return SyntheticBase.Scratch();
        }

        if (s.StartsWith("oci:", StringComparison.Ordinal))
        {
            return await OciLayoutBase.OpenAsync(s, workingDirectory, cancellationToken).ConfigureAwait(false);
        }

        if (s.StartsWith("embedded:", StringComparison.Ordinal))
        {
            throw new KoException(KoErrorCodes.InvalidBaseImage, $"base image '{spec}' is unknown: the embedded base is '{SyntheticBase.EmbeddedStaticName}'.");
        }

        return await OpenRegistryAsync(s, store, registry(), cancellationToken).ConfigureAwait(false);
    }

    // Kept apart so that runs without a registry base never load the HTTP stack.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static async Task<BaseImage> OpenRegistryAsync(string s, ContentStore store, RegistryOptions registry, CancellationToken cancellationToken)
    {
        var reference = ImageReference.Parse(s);
        ArgumentNullException.ThrowIfNull(registry);

        // The client lives as long as the base's layers may be streamed (up to the end of a push): the base owns it
        // and the engine disposes the base when the build is over.
        var client = new RegistryClient(reference.ApiHost, registry);
        try
        {
            return await RegistryBase.OpenAsync(reference, client, store, registry.Logger, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }
}
