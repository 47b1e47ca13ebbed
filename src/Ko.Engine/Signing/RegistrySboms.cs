using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Ko.Engine.Sbom;

namespace Ko.Engine.Signing;

/// <summary>
/// Finds the SBOMs a build attached to an image in a registry, for <c>sign --attest-sbom</c>: the artifacts listed in
/// the referrers tag schema index <c>sha256-&lt;hex&gt;</c> (ko's default) and ko's <c>sha256-&lt;hex&gt;.sbom</c> tag,
/// whose artifact type is SPDX or CycloneDX JSON and whose subject is the image. Documents are read bounded and checked
/// against their digests.
/// </summary>
internal static class RegistrySboms
{
    /// <summary>The largest SBOM document read.</summary>
    public const int MaxDocumentBytes = 32 << 20;

    /// <summary>The (predicate type, document) of each SBOM of <paramref name="subject"/>, each document once.</summary>
    public static async Task<IReadOnlyList<(string PredicateType, byte[] Document)>> FindAsync(RegistryClient client, string repository, Digest subject, CancellationToken cancellationToken)
    {
        var artifacts = new List<Digest>();
        var referrersTag = $"{subject.Algorithm}-{subject.Hex}";
        if (await client.ManifestDigestAsync(repository, referrersTag, cancellationToken).ConfigureAwait(false) is not null)
        {
            var (_, bytes, _) = await client.GetManifestAsync(repository, referrersTag, cancellationToken).ConfigureAwait(false);
            try
            {
                artifacts.AddRange(Oci.Index.Parse(bytes, $"{repository}:{referrersTag}").Manifests
                    .Where(m => m.ArtifactType is SbomDocuments.SpdxMediaType or SbomDocuments.CycloneDxMediaType)
                    .Select(m => m.Digest));
            }
            catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
            {
                // Not a referrers index (something else uses the tag): no SBOM there.
            }
        }

        if (await client.ManifestDigestAsync(repository, referrersTag + ".sbom", cancellationToken).ConfigureAwait(false) is { } tagged)
        {
            artifacts.Add(tagged);
        }

        var found = new List<(string, byte[])>();
        var seen = new HashSet<Digest>();
        foreach (var artifact in artifacts.Distinct())
        {
            var (_, bytes, _) = await client.GetManifestAsync(repository, artifact.ToString(), cancellationToken).ConfigureAwait(false);
            Manifest manifest;
            try
            {
                manifest = Manifest.Parse(bytes, $"{repository}@{artifact}");
            }
            catch (FormatException)
            {
                continue;
            }

            var type = manifest.ArtifactType ?? manifest.Layers.FirstOrDefault()?.MediaType;
            if (manifest.Subject?.Digest != subject || manifest.Layers.Count != 1 || type is not (SbomDocuments.SpdxMediaType or SbomDocuments.CycloneDxMediaType)
                || !seen.Add(manifest.Layers[0].Digest))
            {
                continue;
            }

            var layer = manifest.Layers[0];
            var document = await client.ReadSmallBlobAsync(repository, layer.Digest, layer.Size, MaxDocumentBytes, cancellationToken).ConfigureAwait(false);
            found.Add((type == SbomDocuments.CycloneDxMediaType ? InTotoStatement.CycloneDxPredicate : InTotoStatement.SpdxPredicate, document));
        }

        return found;
    }
}
