namespace Nuke.Ko;

/// <summary>One signature or attestation in cosign's format.</summary>
/// <param name="Name">The image name (<c>registry/repository</c>).</param>
/// <param name="Subject">The digest of the signed manifest or index, <c>sha256:…</c>.</param>
/// <param name="Reference">The signature manifest, <c>name:sha256-&lt;hex&gt;.sig</c> (<c>.att</c> for an attestation).</param>
/// <param name="Attestation">True for an SBOM attestation, false for a signature.</param>
/// <param name="AlreadyPresent">True when the same payload signed with the same key was there already, so nothing was written.</param>
/// <param name="Referrer">For an attestation on a registry with the OCI 1.1 referrers API, the referrer manifest also written; otherwise null.</param>
public sealed record KoSignature(string Name, string Subject, string Reference, bool Attestation, bool AlreadyPresent, string? Referrer);
