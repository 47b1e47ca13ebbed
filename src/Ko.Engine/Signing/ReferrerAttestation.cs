using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Signing;

/// <summary>
/// An attestation as an OCI 1.1 referrer, as cosign's <c>--registry-referrers-mode=oci-1-1</c> writes it: an image
/// manifest with <c>artifactType</c> <c>application/vnd.in-toto+json</c>, the empty config, the DSSE envelope as its one
/// layer (with the <c>predicateType</c> annotation) and the attested image as its <c>subject</c>, put by digest. Written
/// only where the registry offers the referrers API (probed with GET <c>/v2/REPO/referrers/DIGEST</c>); elsewhere the
/// <c>.att</c> tag, which is always written, is where verifiers find it.
/// </summary>
internal static class ReferrerAttestation
{
    /// <summary>The artifact type cosign gives attestation referrers: the in-toto statement the envelopes carry.</summary>
    public const string ArtifactType = DsseEnvelope.InTotoPayloadType;

    private static readonly byte[] EmptyConfig = "{}"u8.ToArray();
    private static readonly Descriptor EmptyDescriptor = new("application/vnd.oci.empty.v1+json", Digest.Sha256(EmptyConfig), 2);

    /// <summary>The referrer manifest's bytes for one DSSE layer about <paramref name="subject"/>; hash exactly these.</summary>
    public static byte[] ManifestBytes(Descriptor subject, Descriptor layer) =>
        new Manifest(MediaTypes.OciManifest, EmptyDescriptor, [layer])
        {
            ArtifactType = ArtifactType,
            Subject = new Descriptor(subject.MediaType, subject.Digest, subject.Size),
        }.ToBytes();

    /// <summary>
    /// Puts the referrer when the registry offers the referrers API and returns its digest; returns null (after a log
    /// line saying why) when it does not. The envelope blob must already be in the repository (the <c>.att</c> push put it there).
    /// </summary>
    public static async Task<Digest?> PutIfOfferedAsync(RegistryClient client, RegistryOptions options, string name, string repository, Descriptor subject, Descriptor layer, CancellationToken cancellationToken)
    {
        if (await client.ReferrersAsync(repository, subject.Digest, cancellationToken).ConfigureAwait(false) is null)
        {
            options.Logger.LogInformation("{Host} does not offer the OCI 1.1 referrers API; the attestation of {Name}@{Digest} is in its .att tag only", client.Host, name, subject.Digest);
            return null;
        }

        var bytes = ManifestBytes(subject, layer);
        var digest = Digest.Sha256(bytes);
        if (!await client.BlobExistsAsync(repository, EmptyDescriptor.Digest, cancellationToken).ConfigureAwait(false))
        {
            await client.UploadBlobAsync(repository, EmptyDescriptor.Digest, EmptyConfig.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(EmptyConfig, false)), cancellationToken).ConfigureAwait(false);
        }

        await client.PutManifestAsync(repository, digest.ToString(), MediaTypes.OciManifest, bytes, cancellationToken).ConfigureAwait(false);
        options.Logger.LogInformation("Attested {Name}@{Digest} as an OCI 1.1 referrer too ({Referrer})", name, subject.Digest, digest);
        return digest;
    }
}
