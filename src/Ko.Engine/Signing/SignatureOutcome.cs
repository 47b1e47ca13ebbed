using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>What signing or attesting one manifest did.</summary>
/// <param name="Name">The image name (<c>registry/repository</c>).</param>
/// <param name="Subject">The signed manifest or index.</param>
/// <param name="Tag">The signature tag, <c>sha256-&lt;hex&gt;.sig</c> (<c>.att</c>).</param>
/// <param name="Artifact">The signature manifest now in the registry; null when nothing had to change.</param>
/// <param name="AlreadyPresent">True when the same payload signed with the same key was already there (nothing was written).</param>
internal sealed record SignatureOutcome(string Name, Digest Subject, string Tag, SignatureArtifact? Artifact, bool AlreadyPresent)
{
    /// <summary>The reference of the signature manifest, <c>name:tag</c>.</summary>
    public string Reference => $"{Name}:{Tag}";

    /// <summary>The digest of the OCI 1.1 referrer an attestation was also written as; null when the registry has no referrers API or for a signature.</summary>
    public Digest? Referrer { get; init; }

    /// <summary>As the public API reports it.</summary>
    public KoSignature ToPublic() => new(Name, Subject, Reference, Tag.EndsWith(".att", StringComparison.Ordinal), AlreadyPresent)
    {
        Referrer = Referrer is { } r ? $"{Name}@{r}" : null,
    };
}
