using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>One signature or attestation that <see cref="KoEngine.SignAsync"/> (or a signing build or push) made or found.</summary>
/// <param name="Name">The image name (<c>registry/repository</c>).</param>
/// <param name="Subject">The digest of the signed manifest or index.</param>
/// <param name="Reference">The signature manifest, <c>name:sha256-&lt;hex&gt;.sig</c> (<c>.att</c> for an attestation).</param>
/// <param name="Attestation">True for an SBOM attestation (<c>.att</c>), false for a signature (<c>.sig</c>).</param>
/// <param name="AlreadyPresent">True when the same payload signed with the same key was already there, so nothing was written.</param>
public sealed record KoSignature(string Name, Digest Subject, string Reference, bool Attestation, bool AlreadyPresent)
{
    /// <summary>For an attestation on a registry with the OCI 1.1 referrers API: the referrer manifest also written, <c>name@sha256:…</c>; otherwise null.</summary>
    public string? Referrer { get; init; }
}
