using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Sinks;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Signing;

/// <summary>
/// <c>dotnet ko push oci:DIR</c> carries the signatures and attestations the layout stores beside the image
/// (<see cref="LayoutSignatures"/>) to the registry, under the tags cosign uses: a tag that is not there yet gets the
/// manifest exactly as stored (same digest); one that is gets the stored layers it lacks appended, as signing does.
/// A signature made for another repository is carried but warned about: verifiers that match the repository reject it.
/// </summary>
internal static class LayoutSignatureCarrier
{
    /// <summary>
    /// Reads (and checks) the signatures the layout at <paramref name="layoutDir"/> stores about <paramref name="artifact"/>
    /// and its images, before anything is pushed; a damaged one is KO5010 naming the layout.
    /// </summary>
    public static async Task<IReadOnlyList<(Digest Subject, string Tag, byte[] Manifest, byte[] Config, IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> Layers)>> ReadAsync(string layoutDir, NamedArtifact artifact, CancellationToken cancellationToken)
    {
        try
        {
            return await LayoutSignatures.ReadAsync(layoutDir, BuildSigner.Subjects(artifact).Select(d => d.Digest).ToList(), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.SignatureManifestInvalid, $"the signatures stored in the OCI layout {layoutDir} cannot be read: {ex.Message} Rebuild the layout, or remove its sha256-<hex>.sig/.att entries from index.json.", ex);
        }
    }

    /// <summary>Puts what <see cref="ReadAsync"/> read under the tags cosign uses beside <paramref name="pushed"/>.</summary>
    public static async Task<IReadOnlyList<KoSignature>> CarryAsync(RegistryOptions options, IReadOnlyList<(Digest Subject, string Tag, byte[] Manifest, byte[] Config, IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> Layers)> stored, NamedArtifact pushed, CancellationToken cancellationToken)
    {
        if (stored.Count == 0)
        {
            return [];
        }

        var (host, repository) = RegistryPublisher.ParseName(pushed.Name);
        var image = ImageReference.Parse(pushed.Name, KoErrorCodes.InvalidOption);
        using var client = new RegistryClient(host, options);
        var carried = new List<KoSignature>();
        foreach (var (subject, tag, manifest, config, layers) in stored)
        {
            WarnOnOtherIdentity(options.Logger, image, tag, layers);
            var existing = await ImageSigner.ReadExistingAsync(client, pushed.Name, repository, tag, cancellationToken).ConfigureAwait(false);
            var suffix = tag[(tag.LastIndexOf('.') + 1)..];
            if (existing is null)
            {
                foreach (var (digest, size, open) in layers.Select(l => (l.Descriptor.Digest, (long)l.Bytes.Length, Open(l.Bytes))).Prepend((Digest.Sha256(config), config.Length, Open(config))))
                {
                    if (!await client.BlobExistsAsync(repository, digest, cancellationToken).ConfigureAwait(false))
                    {
                        await client.UploadBlobAsync(repository, digest, size, open, cancellationToken).ConfigureAwait(false);
                    }
                }

                await client.PutManifestAsync(repository, tag, MediaTypes.OciManifest, manifest, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                var present = SignatureArtifact.ReadLayers(existing.Value.Manifest).Select(l => l.Digest).ToHashSet();
                var missing = layers.Where(l => !present.Contains(l.Descriptor.Digest)).ToList();
                if (missing.Count == 0)
                {
                    carried.Add(new KoSignature(pushed.Name, subject, $"{pushed.Name}:{tag}", suffix == "att", AlreadyPresent: true));
                    continue;
                }

                SignatureArtifact merged;
                try
                {
                    merged = SignatureArtifact.Create(subject, suffix, existing, missing);
                }
                catch (FormatException ex)
                {
                    throw ImageSigner.Invalid(pushed.Name, tag, ex);
                }

                await ImageSigner.PutAsync(client, repository, merged, cancellationToken).ConfigureAwait(false);
            }

            options.Logger.LogInformation("Carried {Count} {What} of {Name}@{Digest} from the layout ({Tag})", layers.Count, suffix == "att" ? "attestation(s)" : "signature(s)", pushed.Name, subject, tag);
            carried.Add(new KoSignature(pushed.Name, subject, $"{pushed.Name}:{tag}", suffix == "att", AlreadyPresent: false));
        }

        return carried;
    }

    private static Func<CancellationToken, ValueTask<Stream>> Open(byte[] bytes) => _ => ValueTask.FromResult<Stream>(new MemoryStream(bytes, false));

    private static void WarnOnOtherIdentity(ILogger logger, ImageReference image, string tag, IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> layers)
    {
        foreach (var (descriptor, bytes) in layers.Where(l => l.Descriptor.MediaType == SignatureArtifact.SimpleSigningMediaType))
        {
            try
            {
                var payload = SimpleSigningPayload.Parse(bytes);
                if (!ImageVerifier.SameRepository(payload.DockerReference, image))
                {
                    logger.LogWarning("The layout's signature {Digest} in {Tag} was made for {Signed}, not {Name}: verifiers that match the repository reject it; sign with push --sign-key", descriptor.Digest, tag, SigningKey.Printable(payload.DockerReference), image.Name);
                }
            }
            catch (FormatException)
            {
                logger.LogWarning("The layout's {Tag} holds a layer that is not a simple-signing payload ({Digest}); it is carried as stored", tag, descriptor.Digest);
            }
        }
    }
}
