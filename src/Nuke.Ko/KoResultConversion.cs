using Engine = global::Ko.Engine;

namespace Nuke.Ko;

/// <summary>Engine results and enums to Nuke.Ko's own types and back, so a NUKE build needs no <c>using Ko.Engine.*</c>.</summary>
internal static class KoResultConversion
{
    public static KoImage ToFace(this Engine.KoImageResult image) => new(
        image.ImportPath,
        image.Name,
        image.Reference,
        image.Digest.ToString(),
        image.MediaType,
        image.Platforms.Select(p => p.ToString()).ToList(),
        image.Tags.ToList())
    {
        PlatformImages = image.PlatformImages.Select(p => new KoPlatformImage(p.Platform.ToString(), p.Digest.ToString())).ToList(),
        SbomReferences = image.SbomReferences,
        BaseName = image.Base?.Name,
        BaseDigest = image.Base?.Digest?.ToString(),
        Engine = image,
    };

    public static KoBuildStatistics ToFace(this Engine.KoBuildStatistics s) => new(s.GoBuilds, s.LayersWritten, s.LayersReused, s.BlobsUploaded, s.BlobsSkipped, s.BlobsMounted);

    public static KoBuildResult ToFace(this Engine.KoBuildResult result) => new(result.Images.Select(ToFace).ToList(), result.Statistics.ToFace());

    public static KoResolveResult ToFace(this Engine.Configuration.KoResolveResult result) => new(result.Text, result.Images.Select(ToFace).ToList());

    public static KoApplyResult ToFace(this Engine.Configuration.KoApplyResult result) =>
        new(result.Objects.Select(o => new KoObjectResult(o.Resource, o.Name, o.Namespace, o.Outcome)).ToList(), result.Images.Select(ToFace).ToList());

    public static KoPushResult ToFace(this Engine.KoPushResult r) =>
        new(r.Source, r.Name, r.Reference, r.Digest.ToString(), r.MediaType, r.Platforms.Select(p => p.ToString()).ToList(), r.Tags, r.Sboms, r.Statistics.ToFace());

    /// <summary>The engine's record of a NUKE build result: the engine's own images when the result came from <c>KoBuild</c>.</summary>
    public static Engine.Records.BuildRecord ToRecord(this KoBuildResult result) =>
        new(result.Images.Select(i => i.Engine ?? new Engine.KoImageResult(
            i.ImportPath,
            i.Name,
            i.Reference,
            Engine.Oci.Digest.TryParse(i.Digest, out var d) ? d : throw new KoTaskException(Engine.KoErrorCodes.InvalidOption, $"SetImages: '{i.Digest}' of {i.ImportPath} is not a digest (sha256:<64 hex digits>)."),
            i.MediaType,
            i.Platforms.Select(Engine.Oci.Platform.Parse).ToList(),
            i.Tags.ToList())).ToList(), "the images given to SetImages");

    public static Engine.Sbom.SbomFormat? ToEngine(this KoSbomFormat? format) => format switch
    {
        null => null,
        KoSbomFormat.Spdx => Engine.Sbom.SbomFormat.Spdx,
        KoSbomFormat.CycloneDx => Engine.Sbom.SbomFormat.CycloneDx,
        KoSbomFormat.None => Engine.Sbom.SbomFormat.None,
        _ => throw new KoTaskException(Engine.KoErrorCodes.InvalidOption, $"SetSbom: {format} is not a KoSbomFormat; use Spdx, CycloneDx or None."),
    };

    public static Engine.Sbom.SbomAttachment ToEngine(this KoSbomAttachment? attach) => attach switch
    {
        null or KoSbomAttachment.Referrers => Engine.Sbom.SbomAttachment.Referrers,
        KoSbomAttachment.Tag => Engine.Sbom.SbomAttachment.Tag,
        _ => throw new KoTaskException(Engine.KoErrorCodes.InvalidOption, $"SetSbomAttach: {attach} is not a KoSbomAttachment; use Referrers or Tag."),
    };

    public static Engine.Layers.LayerCompression ToEngine(this KoLayerCompression? compression) => compression switch
    {
        null or KoLayerCompression.Gzip => Engine.Layers.LayerCompression.Gzip,
        KoLayerCompression.Zstd => Engine.Layers.LayerCompression.Zstd,
        _ => throw new KoTaskException(Engine.KoErrorCodes.InvalidOption, $"SetCompression: {compression} is not a KoLayerCompression; use Gzip or Zstd."),
    };
}
