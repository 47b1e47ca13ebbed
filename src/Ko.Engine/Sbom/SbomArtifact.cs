using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Sbom;

/// <summary>
/// One SBOM as an OCI 1.1 artifact: an image manifest with <c>artifactType</c> = the SBOM media type, the empty config
/// (<c>{}</c>), one layer = the document, and <c>subject</c> = the image (or index) it describes.
/// </summary>
internal sealed class SbomArtifact
{
    public const string EmptyMediaType = "application/vnd.oci.empty.v1+json";
    public const string CreatedAnnotation = "org.opencontainers.image.created";
    public static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    public static readonly Descriptor EmptyDescriptor = new(EmptyMediaType, Digest.Sha256(EmptyConfig), 2);

    public SbomArtifact(SbomFormat format, Descriptor subject, Platform? platform, byte[] document, string created, string fileName)
    {
        Format = format;
        Subject = subject;
        Platform = platform;
        Document = document;
        FileName = fileName;
        var mediaType = SbomDocuments.MediaType(format);
        DocumentDescriptor = new Descriptor(mediaType, Digest.Sha256(document), document.Length);
        Annotations = new Dictionary<string, string>(StringComparer.Ordinal) { [CreatedAnnotation] = created };
        ManifestBytes = new Manifest(MediaTypes.OciManifest, EmptyDescriptor, [DocumentDescriptor])
        {
            ArtifactType = mediaType,
            Subject = new Descriptor(subject.MediaType, subject.Digest, subject.Size),
            Annotations = Annotations,
        }.ToBytes();
        Digest = Digest.Sha256(ManifestBytes);
    }

    /// <summary>
    /// An SBOM artifact read back from its manifest and document (from an OCI layout or archive), or null when the
    /// manifest is not one this engine writes: another artifact type, no subject, another layer count, or bytes
    /// that do not come out the same when written again (the digest must survive a push unchanged).
    /// </summary>
    public static SbomArtifact? TryRead(ReadOnlyMemory<byte> manifestBytes, byte[] document, string where)
    {
        Manifest manifest;
        try
        {
            manifest = Manifest.Parse(manifestBytes.Span, where);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return null;
        }

        SbomFormat? format = manifest.ArtifactType switch
        {
            SbomDocuments.SpdxMediaType => SbomFormat.Spdx,
            SbomDocuments.CycloneDxMediaType => SbomFormat.CycloneDx,
            _ => null,
        };
        if (format is null || manifest.Subject is not { } subject || manifest.Layers.Count != 1
            || manifest.Annotations?.GetValueOrDefault(CreatedAnnotation) is not { } created)
        {
            return null;
        }

        var artifact = new SbomArtifact(format.Value, subject, null, document, created, string.Empty);
        return artifact.Digest == Digest.Sha256(manifestBytes.Span) ? artifact : null;
    }

    public SbomFormat Format { get; }

    /// <summary>The image or index the SBOM describes.</summary>
    public Descriptor Subject { get; }

    /// <summary>The platform of the image described; null for an index.</summary>
    public Platform? Platform { get; }

    public byte[] Document { get; }

    public Descriptor DocumentDescriptor { get; }

    public IReadOnlyDictionary<string, string> Annotations { get; }

    public byte[] ManifestBytes { get; }

    public Digest Digest { get; }

    public string ArtifactType => DocumentDescriptor.MediaType;

    /// <summary>The file name in <c>--sbom-dir</c>: <c>APP-OS-ARCH[-VARIANT].FORMAT.json</c> or <c>APP-index.FORMAT.json</c>.</summary>
    public string FileName { get; }

    /// <summary>The descriptor of the artifact manifest, as referrers lists carry it.</summary>
    public Descriptor Descriptor => new(MediaTypes.OciManifest, Digest, ManifestBytes.Length) { ArtifactType = ArtifactType, Annotations = Annotations };

    /// <summary>The blobs the artifact needs besides its manifest: the empty config and the document.</summary>
    public IEnumerable<(Digest Digest, long Size, Func<CancellationToken, ValueTask<Stream>> Open)> Blobs()
    {
        yield return (EmptyDescriptor.Digest, EmptyDescriptor.Size, _ => ValueTask.FromResult<Stream>(new MemoryStream(EmptyConfig, false)));
        yield return (DocumentDescriptor.Digest, DocumentDescriptor.Size, _ => ValueTask.FromResult<Stream>(new MemoryStream(Document, false)));
    }

    /// <summary>
    /// The SBOMs of one built image: one per platform image, and one for the index when there is one. The build info
    /// of each platform's binary comes from <paramref name="buildInfo"/>.
    /// </summary>
    public static IReadOnlyList<SbomArtifact> For(SbomFormat format, string importPath, string name, IArtifact built, Func<IImage, int, GoBuildInfo> buildInfo)
    {
        var app = importPath.TrimEnd('/').Split('/')[^1];
        var ext = SbomDocuments.Extension(format);
        var list = new List<SbomArtifact>();
        var images = built.Images;
        for (var i = 0; i < images.Count; i++)
        {
            var image = images[i];
            var facts = SbomImageFacts.Of(name, image, buildInfo(image, i));
            var platform = image.Platform;
            var file = $"{app}-{platform.Os}-{platform.Architecture}{(platform.Variant is null ? string.Empty : "-" + platform.Variant)}.{ext}.json";
            list.Add(new SbomArtifact(format, new Descriptor(image.Manifest.MediaType, image.Digest, image.ManifestBytes.Length), platform, SbomDocuments.ForImage(format, facts), facts.Created, file));
        }

        if (built is IImageIndex index)
        {
            var created = images.Count > 0 ? SbomImageFacts.CreatedOf(images[0]) : SbomImageFacts.Format(DateTimeOffset.UnixEpoch);
            var facts = new SbomIndexFacts(name, index.Digest, created, images.Select(c => (c.Digest, c.Platform)).ToList());
            list.Add(new SbomArtifact(format, new Descriptor(built.MediaType, built.Digest, built.RootBytes.Length), null, SbomDocuments.ForIndex(format, facts), created, $"{app}-index.{ext}.json"));
        }

        return list;
    }
}
