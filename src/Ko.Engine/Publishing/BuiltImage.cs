using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Publishing;

/// <summary>The result of building one import path: a single image or an index over platform images, and its name.</summary>
internal sealed class BuiltImage
{
    public BuiltImage(string importPath, string name, IImage? image, IImageIndex? index)
    {
        if ((image is null) == (index is null))
        {
            throw new ArgumentException("exactly one of image and index must be given");
        }

        ImportPath = importPath;
        Name = name;
        Image = image;
        Index = index;
    }

    public string ImportPath { get; }

    /// <summary>The image name without tag or digest, e.g. <c>ko.local/hello-5f1e…</c>.</summary>
    public string Name { get; }

    public IImage? Image { get; }

    public IImageIndex? Index { get; }

    public Digest Digest => Index?.Digest ?? Image!.Digest;

    public string MediaType => Index?.Index.MediaType ?? Image!.Manifest.MediaType;

    public ReadOnlyMemory<byte> RootBytes => Index?.IndexBytes ?? Image!.ManifestBytes;

    public IReadOnlyList<IImage> Images => Index?.Children ?? [Image!];

    public Descriptor RootDescriptor => new(MediaType, Digest, RootBytes.Length);
}
