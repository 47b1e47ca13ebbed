using Ko.Engine.Oci;
using Ko.Engine.Sinks;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Signing;

/// <summary>
/// Signs pushed images in cosign's registry format with the existing registry client: the simple-signing payload,
/// its ECDSA P-256/SHA-256 signature in the layer annotation, appended to the <c>sha256-&lt;hex&gt;.sig</c> manifest
/// (created when missing); and SBOM attestations (in-toto statement in a DSSE envelope) in <c>.att</c> and, where the
/// registry offers the referrers API, also as an OCI 1.1 referrer (<see cref="ReferrerAttestation"/>).
/// The same payload already signed by the same key is not signed again, so re-running a signed build writes nothing.
/// </summary>
internal static class ImageSigner
{
    /// <summary>Annotations that containers/image reads with a meaning of its own (a number, a creator); refused.</summary>
    private static readonly string[] Reserved = ["timestamp"];

    /// <summary>
    /// Signs <paramref name="subject"/> (a manifest or index already pushed under <paramref name="name"/>) with
    /// <paramref name="key"/>; <paramref name="annotations"/> go into the payload's <c>optional</c>.
    /// </summary>
    public static async Task<SignatureOutcome> SignAsync(RegistryOptions options, string name, Descriptor subject, SigningKey key, IReadOnlyDictionary<string, string> annotations, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(key);
        CheckAnnotations(annotations);
        var (host, repository) = RegistryPublisher.ParseName(name);
        var identity = ImageReference.Parse(name, KoErrorCodes.InvalidOption).Name;
        var payload = new SimpleSigningPayload(identity, subject.Digest, new SortedDictionary<string, string>(annotations.ToDictionary(), StringComparer.Ordinal)).ToBytes();
        var payloadDigest = Digest.Sha256(payload);
        var tag = SignatureArtifact.TagFor(subject.Digest, "sig");
        using var client = new RegistryClient(host, options);
        var existing = await ReadExistingAsync(client, name, repository, tag, cancellationToken).ConfigureAwait(false);
        if (existing is { } e && SignatureArtifact.ReadLayers(e.Manifest).Any(l => l.Digest == payloadDigest && SignatureOf(l) is { } sig && key.PublicKey.Verify(payload, sig)))
        {
            options.Logger.LogInformation("{Name}@{Digest} is already signed with this key", name, subject.Digest);
            return new SignatureOutcome(name, subject.Digest, tag, null, AlreadyPresent: true);
        }

        var artifact = Build(subject.Digest, "sig", existing, [SignatureLayer(payload, key)], name, tag);
        await PutAsync(client, repository, artifact, cancellationToken).ConfigureAwait(false);
        options.Logger.LogInformation("Signed {Name}@{Digest} ({Tag}, {Count} signature(s))", name, subject.Digest, tag, artifact.LayerCount);
        return new SignatureOutcome(name, subject.Digest, tag, artifact, AlreadyPresent: false);
    }

    /// <summary>
    /// Attests <paramref name="subject"/>: <paramref name="predicate"/> (a JSON document, e.g. an SPDX SBOM) as an in-toto
    /// statement of <paramref name="predicateType"/>, in a DSSE envelope signed with <paramref name="key"/>, appended to
    /// the <c>sha256-&lt;hex&gt;.att</c> manifest with the <c>predicateType</c> annotation, as cosign's <c>attest</c>.
    /// </summary>
    public static async Task<SignatureOutcome> AttestAsync(RegistryOptions options, string name, Descriptor subject, SigningKey key, string predicateType, byte[] predicate, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(key);
        var (host, repository) = RegistryPublisher.ParseName(name);
        var identity = ImageReference.Parse(name, KoErrorCodes.InvalidOption).Name;
        var statement = InTotoStatement.Create(identity, subject.Digest, predicateType, predicate);
        var tag = SignatureArtifact.TagFor(subject.Digest, "att");
        using var client = new RegistryClient(host, options);
        var existing = await ReadExistingAsync(client, name, repository, tag, cancellationToken).ConfigureAwait(false);
        if (existing is { } e)
        {
            foreach (var l in SignatureArtifact.ReadLayers(e.Manifest).Where(l => l.MediaType == SignatureArtifact.DsseMediaType && l.Size <= ImageVerifier.MaxEnvelopeBytes))
            {
                var bytes = await client.ReadSmallBlobAsync(repository, l.Digest, l.Size, ImageVerifier.MaxEnvelopeBytes, cancellationToken).ConfigureAwait(false);
                if (TryParseEnvelope(bytes) is { } old && old.Payload.AsSpan().SequenceEqual(statement) && old.VerifiedBy(key.PublicKey))
                {
                    options.Logger.LogInformation("{Name}@{Digest} already has this attestation", name, subject.Digest);
                    return new SignatureOutcome(name, subject.Digest, tag, null, AlreadyPresent: true);
                }
            }
        }

        var layer = AttestationLayer(statement, predicateType, key);
        var artifact = Build(subject.Digest, "att", existing, [layer], name, tag);
        await PutAsync(client, repository, artifact, cancellationToken).ConfigureAwait(false);
        options.Logger.LogInformation("Attested {Name}@{Digest} ({PredicateType}, {Tag})", name, subject.Digest, predicateType, tag);
        var referrer = await ReferrerAttestation.PutIfOfferedAsync(client, options, name, repository, subject, layer.Item1, cancellationToken).ConfigureAwait(false);
        return new SignatureOutcome(name, subject.Digest, tag, artifact, AlreadyPresent: false) { Referrer = referrer };
    }

    /// <summary>
    /// The signature manifest of <paramref name="subject"/> with one new signature, without a registry: for OCI layouts
    /// and archives (write <see cref="SignatureArtifact.ManifestBytes"/>, its <see cref="SignatureArtifact.Blobs"/>, and an
    /// <c>index.json</c> entry with <see cref="SignatureArtifact.Descriptor"/> named <see cref="SignatureArtifact.Tag"/>).
    /// </summary>
    public static SignatureArtifact SignatureFor(string name, Descriptor subject, SigningKey key, IReadOnlyDictionary<string, string> annotations)
    {
        CheckAnnotations(annotations);
        var identity = ImageReference.Parse(name, KoErrorCodes.InvalidOption).Name;
        var payload = new SimpleSigningPayload(identity, subject.Digest, new SortedDictionary<string, string>(annotations.ToDictionary(), StringComparer.Ordinal)).ToBytes();
        return SignatureArtifact.Create(subject.Digest, "sig", null, [SignatureLayer(payload, key)]);
    }

    /// <summary>As <see cref="SignatureFor"/>, the attestation manifest (<c>.att</c>) of one predicate, for layouts and archives.</summary>
    public static SignatureArtifact AttestationFor(string name, Descriptor subject, SigningKey key, string predicateType, byte[] predicate)
    {
        var identity = ImageReference.Parse(name, KoErrorCodes.InvalidOption).Name;
        var statement = InTotoStatement.Create(identity, subject.Digest, predicateType, predicate);
        return SignatureArtifact.Create(subject.Digest, "att", null, [AttestationLayer(statement, predicateType, key)]);
    }

    private static (Descriptor, byte[]) SignatureLayer(byte[] payload, SigningKey key) =>
        (new Descriptor(SignatureArtifact.SimpleSigningMediaType, Digest.Sha256(payload), payload.Length)
        {
            Annotations = new Dictionary<string, string> { [SignatureArtifact.SignatureAnnotation] = Convert.ToBase64String(key.Sign(payload)) },
        }, payload);

    private static (Descriptor, byte[]) AttestationLayer(byte[] statement, string predicateType, SigningKey key)
    {
        var envelope = DsseEnvelope.Sign(DsseEnvelope.InTotoPayloadType, statement, key).ToBytes();
        return (new Descriptor(SignatureArtifact.DsseMediaType, Digest.Sha256(envelope), envelope.Length)
        {
            Annotations = new Dictionary<string, string>
            {
                [SignatureArtifact.SignatureAnnotation] = string.Empty,
                [SignatureArtifact.PredicateTypeAnnotation] = predicateType,
            },
        }, envelope);
    }

    /// <summary>Checks <c>--sign-annotation</c> keys: non-empty, and none that verifiers read with another meaning.</summary>
    internal static void CheckAnnotations(IReadOnlyDictionary<string, string> annotations)
    {
        ArgumentNullException.ThrowIfNull(annotations);
        foreach (var key in annotations.Keys)
        {
            if (string.IsNullOrWhiteSpace(key) || Reserved.Contains(key, StringComparer.Ordinal))
            {
                throw new KoException(KoErrorCodes.InvalidSignAnnotation, $"--sign-annotation '{SigningKey.Printable(key)}' cannot be used: {(string.IsNullOrWhiteSpace(key) ? "the key is empty" : "containers/image reads 'timestamp' as a number and would reject the signature")}; use key=value with another key.");
            }
        }
    }

    internal static byte[]? SignatureOf(Descriptor layer)
    {
        if (layer.Annotations?.GetValueOrDefault(SignatureArtifact.SignatureAnnotation) is not { Length: > 0 and < 4096 } text)
        {
            return null;
        }

        try
        {
            return Convert.FromBase64String(text);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    internal static DsseEnvelope? TryParseEnvelope(byte[] bytes)
    {
        try
        {
            return DsseEnvelope.Parse(bytes);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    /// <summary>The manifest and config at <paramref name="tag"/>, or null when the tag does not exist.</summary>
    internal static async Task<(byte[] Manifest, byte[] Config)?> ReadExistingAsync(RegistryClient client, string name, string repository, string tag, CancellationToken cancellationToken)
    {
        // docker-registry and the registries ko pushes to name the digest on HEAD; null means the tag is not there.
        if (await client.ManifestDigestAsync(repository, tag, cancellationToken).ConfigureAwait(false) is null)
        {
            return null;
        }

        var (_, manifest, _) = await client.GetManifestAsync(repository, tag, cancellationToken).ConfigureAwait(false);
        Descriptor config;
        try
        {
            config = Manifest.Parse(manifest, $"{name}:{tag}").Config;
            SignatureArtifact.ReadLayers(manifest);
        }
        catch (FormatException ex)
        {
            throw Invalid(name, tag, ex);
        }

        var configBytes = await client.ReadSmallBlobAsync(repository, config.Digest, config.Size, SignatureArtifact.MaxConfigBytes, cancellationToken).ConfigureAwait(false);
        return (manifest, configBytes);
    }

    private static SignatureArtifact Build(Digest subject, string suffix, (byte[] Manifest, byte[] Config)? existing, IReadOnlyList<(Descriptor, byte[])> layers, string name, string tag)
    {
        try
        {
            return SignatureArtifact.Create(subject, suffix, existing, layers);
        }
        catch (FormatException ex)
        {
            throw Invalid(name, tag, ex);
        }
    }

    internal static KoException Invalid(string name, string tag, Exception ex) =>
        new(KoErrorCodes.SignatureManifestInvalid, $"{name}:{tag} is not a signature manifest as cosign writes it: {ex.Message}. Delete that tag (its signatures are lost) or sign another repository.", ex);

    internal static async Task PutAsync(RegistryClient client, string repository, SignatureArtifact artifact, CancellationToken cancellationToken)
    {
        foreach (var (digest, size, open) in artifact.Blobs())
        {
            if (!await client.BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
            {
                await client.UploadBlobAsync(repository, digest, size, open, cancellationToken).ConfigureAwait(false);
            }
        }

        await client.PutManifestAsync(repository, artifact.Tag, MediaTypes.OciManifest, artifact.ManifestBytes, cancellationToken).ConfigureAwait(false);
    }
}
