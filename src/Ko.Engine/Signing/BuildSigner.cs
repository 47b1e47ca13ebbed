using Ko.Engine.Oci;
using Ko.Engine.Sinks;
using Ko.Engine.Registry;
using Ko.Engine.Sbom;

namespace Ko.Engine.Signing;

/// <summary>
/// Signs what a build pushed: the index (when there is one) and every platform image, as cosign signs each image ko
/// pushes; with <c>attest</c>, each SBOM made for them becomes a signed attestation of its subject. Called after
/// each push of a build (<c>Pipeline/SigningSink</c>).
/// </summary>
internal static class BuildSigner
{
    /// <summary>Signs (and attests) one pushed build; returns what each step did, index first.</summary>
    public static async Task<IReadOnlyList<SignatureOutcome>> SignAsync(RegistryOptions options, NamedArtifact built, SigningKey key, IReadOnlyDictionary<string, string> annotations, IReadOnlyList<SbomArtifact>? attest, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(built);
        var outcomes = new List<SignatureOutcome>();
        foreach (var subject in Subjects(built))
        {
            outcomes.Add(await ImageSigner.SignAsync(options, built.Name, subject, key, annotations, cancellationToken).ConfigureAwait(false));
        }

        foreach (var sbom in attest ?? [])
        {
            outcomes.Add(await ImageSigner.AttestAsync(options, built.Name, sbom.Subject, key, PredicateType(sbom.Format), sbom.Document, cancellationToken).ConfigureAwait(false));
        }

        return outcomes;
    }

    /// <summary>
    /// The build's signing key (<see cref="Configuration.BuildPlan.SignKey"/>), or null when the build does not sign. An
    /// encrypted key's password comes from <c>KO_SIGN_PASSWORD</c> in the build's environment (builds never prompt).
    /// </summary>
    public static async Task<SigningKey?> LoadKeyAsync(Configuration.BuildPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.SignKey is null)
        {
            return null;
        }

        var password = plan.Environment.GetValueOrDefault("KO_SIGN_PASSWORD");
        return await SigningKey.LoadAsync(plan.SignKey, _ => ValueTask.FromResult(password), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The manifests a build signs: the index (when there is one), then each platform image.</summary>
    public static IEnumerable<Descriptor> Subjects(NamedArtifact built)
    {
        if (built.Index is not null)
        {
            yield return built.RootDescriptor;
        }

        foreach (var image in built.Images)
        {
            yield return new Descriptor(image.Manifest.MediaType, image.Digest, image.ManifestBytes.Length);
        }
    }

    /// <summary>The in-toto predicate type cosign uses for an SBOM format.</summary>
    public static string PredicateType(SbomFormat format) =>
        format == SbomFormat.CycloneDx ? InTotoStatement.CycloneDxPredicate : InTotoStatement.SpdxPredicate;
}
