using Ko.Engine.Oci;

namespace Ko.Engine.Records;

/// <summary>The base an image was built on, as its <c>org.opencontainers.image.base.*</c> annotations name it.</summary>
/// <param name="Name">The base's name, e.g. <c>embedded:static</c> or <c>cgr.dev/chainguard/static:latest</c>.</param>
/// <param name="Digest">The base's digest (its index, or its image for a single-platform base), when known.</param>
public sealed record KoBaseImage(string Name, Digest? Digest)
{
    internal const string NameAnnotation = "org.opencontainers.image.base.name";
    internal const string DigestAnnotation = "org.opencontainers.image.base.digest";

    /// <summary>The base of a built image: its index's annotations, else its (first) image manifest's.</summary>
    internal static KoBaseImage? Of(Sinks.NamedArtifact built) =>
        FromAnnotations(built.Index?.Index.Annotations) ?? FromAnnotations(built.Images[0].Manifest.Annotations);

    /// <summary>The base named by a manifest's or index's annotations; null when they name none.</summary>
    internal static KoBaseImage? FromAnnotations(IReadOnlyDictionary<string, string>? annotations)
    {
        if (annotations is null || !annotations.TryGetValue(NameAnnotation, out var name) || string.IsNullOrEmpty(name))
        {
            return null;
        }

        return new KoBaseImage(name, annotations.TryGetValue(DigestAnnotation, out var d) && Oci.Digest.TryParse(d, out var digest) ? digest : null);
    }
}
