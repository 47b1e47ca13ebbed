using Ko.Engine.Layers;

namespace Ko.Engine.Images;

/// <summary>Turns a base image string into a <see cref="BaseImage"/>. The seam where registry bases plug in.</summary>
internal static class BaseImageResolver
{
    public static async Task<BaseImage> ResolveAsync(string spec, string workingDirectory, ContentStore store, LayerCache cache, CancellationToken cancellationToken)
    {
        var s = spec.Trim();
        if (s == SyntheticBase.EmbeddedStaticName)
        {
            return await SyntheticBase.EmbeddedStaticAsync(store, cache, cancellationToken).ConfigureAwait(false);
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

        throw new KoException(
            KoErrorCodes.InvalidBaseImage,
            $"base image '{spec}' names a registry image, and this version reads bases only from embedded:static, scratch or oci:DIR[:TAG]. Copy it into a layout first (skopeo copy docker://{spec} oci:base-layout) and use oci:base-layout.");
    }
}
