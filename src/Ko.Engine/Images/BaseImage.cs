using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>
/// A resolved base image: what platforms it offers and how to get its image for one of them. Embedded, scratch,
/// OCI-layout and (later) registry sources all produce one.
/// </summary>
internal abstract class BaseImage : IDisposable
{
    /// <summary>Releases what the base holds (a registry base's HTTP client); its layers cannot be read after.</summary>
    public virtual void Dispose()
    {
    }

    /// <summary>The name written to <c>org.opencontainers.image.base.name</c>.</summary>
    public abstract string Name { get; }

    /// <summary>The platforms this base offers (<c>unknown/unknown</c> attestation entries excluded).</summary>
    public abstract IReadOnlyList<Platform> Platforms { get; }

    /// <summary>True when the base is an index (or a synthetic multi-platform base); false for a single image.</summary>
    public abstract bool IsMultiPlatform { get; }

    /// <summary>The media type for an index built on this base (OCI unless the base is a Docker manifest list).</summary>
    public virtual string IndexMediaType => MediaTypes.OciIndex;

    /// <summary>The digest of the base's index, when it is an index.</summary>
    public virtual Digest? IndexDigest => null;

    /// <summary>Image entries of the base index that carry no platform (ko's platformMatcher builds them only for <c>all</c>).</summary>
    public virtual IReadOnlyList<Digest> EntriesWithoutPlatform => [];

    /// <summary>The annotations of the base index's entry for a platform (null for a single image or none there).</summary>
    public virtual IReadOnlyDictionary<string, string>? IndexEntryAnnotations(Platform platform) => null;

    /// <summary>Returns the image for a platform, which must be one this base offers.</summary>
    public abstract Task<IImage> GetImageAsync(Platform platform, CancellationToken cancellationToken);

}
