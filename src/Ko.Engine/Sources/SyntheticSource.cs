using Ko.Engine.Oci;

namespace Ko.Engine.Sources;

/// <summary>
/// A base made in-process (<c>scratch</c>, <c>embedded:static</c>) as an artifact: an OCI index over an image for each
/// platform it offers, in <see cref="Images.SyntheticBase.Offered"/> order.
/// </summary>
internal sealed class SyntheticSource(Images.SyntheticBase synthetic) : IImageSource
{
    public string Name => synthetic.Name;

    public async Task<IArtifact> ReadAsync(CancellationToken cancellationToken)
    {
        var images = new List<IImage>();
        foreach (var platform in synthetic.Platforms)
        {
            images.Add(await synthetic.GetImageAsync(platform, cancellationToken).ConfigureAwait(false));
        }

        var index = new Oci.Index(
            MediaTypes.OciIndex,
            images.Select(i => new Descriptor(i.MediaType, i.Digest, i.ManifestBytes.Length) { Platform = i.Platform }).ToList());
        return new ImageIndex(index.ToBytes(), images);
    }

    public void Dispose() => synthetic.Dispose();

    public ValueTask DisposeAsync()
    {
        synthetic.Dispose();
        return ValueTask.CompletedTask;
    }
}
