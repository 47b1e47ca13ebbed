using Ko.Engine.Signing;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// Writes a new ECDSA P-256 key pair as cosign's <c>generate-key-pair</c>: <c>PREFIX.key</c> in cosign's encrypted
    /// format (scrypt + secretbox, <c>ENCRYPTED SIGSTORE PRIVATE KEY</c>, mode 0600) and <c>PREFIX.pub</c> (PEM). The
    /// password comes from <c>KO_SIGN_PASSWORD</c>, else from <see cref="KoGenerateKeyOptions.Password"/>. Existing files
    /// are never replaced, and no half-written key is left behind.
    /// </summary>
    /// <param name="options">Where to write the pair and where the password comes from.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <returns>The paths written.</returns>
    /// <exception cref="KoException">KO5004 when a file is there already, KO5002 when no password can be had, KO3xxx when a file cannot be written.</exception>
    public Task<KoKeyPair> GenerateKeyAsync(KoGenerateKeyOptions options, CancellationToken cancellationToken = default) =>
        SigningRun.GenerateKeyAsync(options, _logger, cancellationToken);

    /// <summary>
    /// Signs images already in a registry in cosign's format, as <c>cosign sign --key</c>: the simple-signing payload
    /// and its signature appended to the <c>sha256-&lt;hex&gt;.sig</c> manifest (created when missing; the same payload
    /// already signed with the same key is not signed again); with <see cref="KoSignOptions.AttestSbom"/>, each attached
    /// SBOM as a signed in-toto attestation (<c>.att</c>).
    /// </summary>
    /// <param name="options">What to sign, with which key.</param>
    /// <param name="cancellationToken">Cancels the signing.</param>
    /// <returns>Each signature and attestation.</returns>
    /// <exception cref="KoException">KO5001/KO5002 for the key, KO5005 for an annotation, KO5010 for a signature tag that is not cosign's, KO5013 when there is no SBOM to attest, KO3xxx for the registry.</exception>
    public Task<KoSignResult> SignAsync(KoSignOptions options, CancellationToken cancellationToken = default) =>
        SigningRun.SignAsync(options, _logger, cancellationToken);

    /// <summary>
    /// Verifies cosign signatures (and, when asked, attestations) of images in a registry with a public key, as
    /// <c>cosign verify --key</c> and containers/image's <c>sigstoreSigned</c> policy with <c>matchRepository</c>.
    /// </summary>
    /// <param name="options">What to verify, with which public key.</param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <returns>The verified images; the first one that fails throws instead.</returns>
    /// <exception cref="KoException">
    /// KO5003 for the public key; KO5006 no signature, KO5007 none verifies with the key, KO5008 signed for another digest,
    /// KO5009 signed for another repository, KO5010 a malformed signature manifest, KO5011/KO5012 attestations.
    /// </exception>
    public Task<KoVerifyResult> VerifyAsync(KoVerifyOptions options, CancellationToken cancellationToken = default) =>
        SigningRun.VerifyAsync(options, _logger, cancellationToken);
}
