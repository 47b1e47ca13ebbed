using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;

namespace Ko.Engine.Signing;

/// <summary>
/// Checks cosign signatures (and attestations) of an image in a registry against a public key, as <c>cosign verify
/// --key</c> and containers/image's <c>sigstoreSigned</c> with <c>matchRepository</c>: a signature counts when its
/// layer's signature verifies over its payload, the payload names the image's digest and its repository. Everything
/// read from the registry is bounded and checked; a failure is a <see cref="KoException"/> whose code names what failed.
/// </summary>
internal static class ImageVerifier
{
    /// <summary>The largest DSSE envelope read (an SBOM can be large).</summary>
    public const int MaxEnvelopeBytes = 64 << 20;

    /// <summary>Verifies <paramref name="reference"/> (by tag or digest) with <paramref name="key"/>.</summary>
    public static async Task<VerificationResult> VerifyAsync(RegistryOptions options, string reference, VerificationKey key, bool attestations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(key);
        var image = ImageReference.Parse(reference, KoErrorCodes.InvalidOption);
        using var client = new RegistryClient(image.ApiHost, options);
        var digest = image.Digest ?? await client.ManifestDigestAsync(image.Repository, image.ManifestReference, cancellationToken).ConfigureAwait(false)
            ?? (await client.GetManifestAsync(image.Repository, image.ManifestReference, cancellationToken).ConfigureAwait(false)).Digest;
        var signatures = await SignaturesAsync(client, image, digest, key, cancellationToken).ConfigureAwait(false);
        var predicates = attestations ? await AttestationsAsync(client, image, digest, key, cancellationToken).ConfigureAwait(false) : [];
        return new VerificationResult(image.Name, digest, signatures, predicates);
    }

    private static async Task<IReadOnlyList<SimpleSigningPayload>> SignaturesAsync(RegistryClient client, ImageReference image, Digest digest, VerificationKey key, CancellationToken cancellationToken)
    {
        var tag = SignatureArtifact.TagFor(digest, "sig");
        var existing = await ImageSigner.ReadExistingAsync(client, image.Name, image.Repository, tag, cancellationToken).ConfigureAwait(false);
        var layers = existing is { } e ? SignatureArtifact.ReadLayers(e.Manifest).Where(l => l.MediaType == SignatureArtifact.SimpleSigningMediaType).ToList() : [];
        if (layers.Count == 0)
        {
            throw new KoException(KoErrorCodes.NoSignature, $"{image.Name}@{digest} has no signature: {(existing is null ? $"there is no {tag} tag" : $"{tag} holds no simple-signing layer")}. Sign it with 'dotnet ko sign --key KEY {image.Name}@{digest}'.");
        }

        var good = new List<SimpleSigningPayload>();
        SimpleSigningPayload? wrongDigest = null, wrongIdentity = null;
        foreach (var layer in layers)
        {
            if (ImageSigner.SignatureOf(layer) is not { } signature || layer.Size > SimpleSigningPayload.MaxBytes)
            {
                continue;
            }

            var payload = await client.ReadSmallBlobAsync(image.Repository, layer.Digest, layer.Size, SimpleSigningPayload.MaxBytes, cancellationToken).ConfigureAwait(false);
            if (!key.Verify(payload, signature))
            {
                continue;
            }

            SimpleSigningPayload parsed;
            try
            {
                parsed = SimpleSigningPayload.Parse(payload);
            }
            catch (FormatException ex)
            {
                throw new KoException(KoErrorCodes.SignatureManifestInvalid, $"{image.Name}:{tag}: a payload signed with the key is not a cosign simple-signing payload: {ex.Message}.", ex);
            }

            if (parsed.ManifestDigest != digest)
            {
                wrongDigest ??= parsed;
            }
            else if (!SameRepository(parsed.DockerReference, image))
            {
                wrongIdentity ??= parsed;
            }
            else
            {
                good.Add(parsed);
            }
        }

        if (good.Count > 0)
        {
            return good;
        }

        if (wrongDigest is not null)
        {
            throw new KoException(KoErrorCodes.SignatureDigestMismatch, $"{image.Name}@{digest}: the signature made with the key is for {wrongDigest.ManifestDigest}, not this image's digest; the {tag} manifest was altered or copied from another image.");
        }

        if (wrongIdentity is not null)
        {
            throw new KoException(KoErrorCodes.SignatureIdentityMismatch, $"{image.Name}@{digest}: the signature made with the key names the repository {SigningKey.Printable(wrongIdentity.DockerReference)}, not {image.Name}; it was signed for another repository.");
        }

        throw new KoException(KoErrorCodes.SignatureKeyMismatch, $"{image.Name}@{digest} has {layers.Count} signature(s) in {tag}, but none verifies with the public key: another key signed it, or a signature or payload was altered.");
    }

    private static async Task<IReadOnlyList<string>> AttestationsAsync(RegistryClient client, ImageReference image, Digest digest, VerificationKey key, CancellationToken cancellationToken)
    {
        var tag = SignatureArtifact.TagFor(digest, "att");
        var existing = await ImageSigner.ReadExistingAsync(client, image.Name, image.Repository, tag, cancellationToken).ConfigureAwait(false);
        var layers = existing is { } e ? SignatureArtifact.ReadLayers(e.Manifest).Where(l => l.MediaType == SignatureArtifact.DsseMediaType).ToList() : [];
        if (layers.Count == 0)
        {
            throw new KoException(KoErrorCodes.NoAttestation, $"{image.Name}@{digest} has no attestation: {(existing is null ? $"there is no {tag} tag" : $"{tag} holds no DSSE layer")}. Attest it with 'dotnet ko sign --attest-sbom --key KEY {image.Name}@{digest}'.");
        }

        var predicates = new List<string>();
        var otherSubject = false;
        foreach (var layer in layers.Where(l => l.Size <= MaxEnvelopeBytes))
        {
            var bytes = await client.ReadSmallBlobAsync(image.Repository, layer.Digest, layer.Size, MaxEnvelopeBytes, cancellationToken).ConfigureAwait(false);
            if (ImageSigner.TryParseEnvelope(bytes) is not { PayloadType: DsseEnvelope.InTotoPayloadType } envelope || !envelope.VerifiedBy(key))
            {
                continue;
            }

            try
            {
                var (predicateType, subjects) = InTotoStatement.Read(envelope.Payload);
                if (subjects.Contains(digest))
                {
                    predicates.Add(predicateType);
                }
                else
                {
                    otherSubject = true;
                }
            }
            catch (FormatException ex)
            {
                throw new KoException(KoErrorCodes.SignatureManifestInvalid, $"{image.Name}:{tag}: an attestation signed with the key is not an in-toto statement: {ex.Message}.", ex);
            }
        }

        return predicates.Count > 0
            ? predicates
            : throw new KoException(KoErrorCodes.AttestationMismatch, otherSubject
                ? $"{image.Name}@{digest}: the attestation signed with the key is about another image (its subject is not {digest}); the {tag} manifest was altered or copied."
                : $"{image.Name}@{digest} has {layers.Count} attestation(s) in {tag}, but none verifies with the public key: another key signed it, or an envelope was altered.");
    }

    /// <summary>True when a payload's <c>docker-reference</c> (with or without tag) names the same repository as <paramref name="image"/>.</summary>
    internal static bool SameRepository(string dockerReference, ImageReference image) =>
        ImageReference.TryParse(dockerReference, out var signed, out _)
        && ImageReference.SameRegistry(signed.Registry, image.Registry)
        && string.Equals(signed.Repository, image.Repository, StringComparison.Ordinal);
}
