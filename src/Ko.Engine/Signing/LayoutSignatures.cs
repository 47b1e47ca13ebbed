using System.Text.RegularExpressions;
using Ko.Engine.Oci;
using Ko.Engine.Sources;

namespace Ko.Engine.Signing;

/// <summary>
/// Signatures and attestations inside an OCI image layout, as cosign's <c>save</c> keeps them beside the image: each
/// signature manifest (and its config and payload blobs) in the layout, listed in <c>index.json</c> with the annotation
/// <c>kind</c> = <c>dev.cosignproject.cosign/sigs</c> (<c>/atts</c>) and, so several images' signatures can live in one
/// layout and <c>push</c> finds each by its subject, the ref name <c>sha256-&lt;hex&gt;.sig</c> (<c>.att</c>) a registry
/// would tag it with. Appending keeps the signatures already there, as in a registry.
/// </summary>
internal static partial class LayoutSignatures
{
    public const string KindAnnotation = "kind";
    public const string SignaturesKind = "dev.cosignproject.cosign/sigs";
    public const string AttestationsKind = "dev.cosignproject.cosign/atts";

    /// <summary>True for an <c>index.json</c> entry that holds signatures or attestations, not an image.</summary>
    public static bool IsSignatureEntry(Descriptor entry) =>
        entry.Annotations is { } a
        && ((a.GetValueOrDefault(KindAnnotation) is SignaturesKind or AttestationsKind) || (a.GetValueOrDefault(AnnotationKeys.RefName) is { } name && TagPattern().IsMatch(name)));

    /// <summary>
    /// Adds <paramref name="artifacts"/> to the layout at <paramref name="layoutPath"/> under its lock: blobs written
    /// beside and renamed, each artifact's layers appended to the entry of the same tag (a payload the key already
    /// signed there is not added again), <c>index.json</c> replaced atomically.
    /// </summary>
    public static async Task AppendAsync(string layoutPath, IReadOnlyList<SignatureArtifact> artifacts, VerificationKey key, CancellationToken cancellationToken)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(layoutPath));
        try
        {
            using var held = await Util.FileLock.AcquireAsync(Sinks.OciLayoutWriter.LockPath(target), $"the OCI layout {target}", Util.FileLock.DefaultTimeout, cancellationToken).ConfigureAwait(false);
            var files = new DirectoryFiles(target);
            var top = await OciLayoutReader.ReadTopIndexAsync(files, cancellationToken).ConfigureAwait(false);
            var entries = top.Manifests.ToList();
            foreach (var artifact in artifacts)
            {
                var at = entries.FindIndex(e => e.Annotations?.GetValueOrDefault(AnnotationKeys.RefName) == artifact.Tag);
                var merged = at < 0 ? artifact : await MergeAsync(files, entries[at], artifact, key, cancellationToken).ConfigureAwait(false);
                if (merged is null)
                {
                    continue;
                }

                foreach (var (digest, _, open) in merged.Blobs().Append((merged.Digest, merged.ManifestBytes.Length, _ => ValueTask.FromResult<Stream>(new MemoryStream(merged.ManifestBytes, false)))))
                {
                    await WriteBlobAsync(target, digest, open, cancellationToken).ConfigureAwait(false);
                }

                var entry = merged.Descriptor with
                {
                    Annotations = new Dictionary<string, string>
                    {
                        [KindAnnotation] = merged.Suffix == "att" ? AttestationsKind : SignaturesKind,
                        [AnnotationKeys.RefName] = merged.Tag,
                    },
                };
                if (at < 0)
                {
                    entries.Add(entry);
                }
                else
                {
                    entries[at] = entry;
                }
            }

            await Util.AtomicOutput.WriteFileAsync(Path.Combine(target, "index.json"), (s, ct) => s.WriteAsync(new Oci.Index(top.MediaType, entries) { Annotations = top.Annotations }.ToBytes(), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        }
        catch (FormatException ex)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot add signatures to the OCI layout {target}: {ex.Message}. Write the build to a new directory.", ex);
        }
    }

    /// <summary>
    /// The signature manifests in the layout at <paramref name="layoutPath"/> about <paramref name="subjects"/>: each
    /// entry's manifest, config and layers read bounded and checked against their digests.
    /// </summary>
    public static async Task<IReadOnlyList<(Digest Subject, string Tag, byte[] Manifest, byte[] Config, IReadOnlyList<(Descriptor Descriptor, byte[] Bytes)> Layers)>> ReadAsync(string layoutPath, IReadOnlyCollection<Digest> subjects, CancellationToken cancellationToken)
    {
        var files = new DirectoryFiles(layoutPath);
        var top = await OciLayoutReader.ReadTopIndexAsync(files, cancellationToken).ConfigureAwait(false);
        var found = new List<(Digest, string, byte[], byte[], IReadOnlyList<(Descriptor, byte[])>)>();
        foreach (var subject in subjects)
        {
            foreach (var suffix in new[] { "sig", "att" })
            {
                var tag = SignatureArtifact.TagFor(subject, suffix);
                if (top.Manifests.FirstOrDefault(e => e.Annotations?.GetValueOrDefault(AnnotationKeys.RefName) == tag) is not { } entry)
                {
                    continue;
                }

                var manifest = await OciLayoutReader.ReadBlobAsync(files, entry, cancellationToken).ConfigureAwait(false);
                var config = await OciLayoutReader.ReadBlobAsync(files, Manifest.Parse(manifest, $"{layoutPath}:{tag}").Config, cancellationToken).ConfigureAwait(false);
                var layers = new List<(Descriptor, byte[])>();
                foreach (var layer in SignatureArtifact.ReadLayers(manifest))
                {
                    layers.Add((layer, await OciLayoutReader.ReadBlobAsync(files, layer, cancellationToken).ConfigureAwait(false)));
                }

                found.Add((subject, tag, manifest, config, layers));
            }
        }

        return found;
    }

    private static async Task<SignatureArtifact?> MergeAsync(DirectoryFiles files, Descriptor entry, SignatureArtifact artifact, VerificationKey key, CancellationToken cancellationToken)
    {
        var manifest = await OciLayoutReader.ReadBlobAsync(files, entry, cancellationToken).ConfigureAwait(false);
        var config = await OciLayoutReader.ReadBlobAsync(files, Manifest.Parse(manifest, artifact.Tag).Config, cancellationToken).ConfigureAwait(false);
        var fresh = new List<(Descriptor, byte[])>();
        foreach (var (descriptor, bytes) in artifact.NewLayers)
        {
            if (!await AlreadyThereAsync(files, manifest, descriptor, bytes, key, cancellationToken).ConfigureAwait(false))
            {
                fresh.Add((descriptor, bytes));
            }
        }

        return fresh.Count == 0 ? null : SignatureArtifact.Create(artifact.Subject, artifact.Suffix, (manifest, config), fresh);
    }

    /// <summary>True when the same payload signed with the same key (or the same statement in an envelope the key signed) is in the manifest.</summary>
    private static async Task<bool> AlreadyThereAsync(DirectoryFiles files, byte[] manifest, Descriptor layer, byte[] bytes, VerificationKey key, CancellationToken cancellationToken)
    {
        foreach (var old in SignatureArtifact.ReadLayers(manifest).Where(l => l.MediaType == layer.MediaType && l.Size <= ImageVerifier.MaxEnvelopeBytes))
        {
            if (layer.MediaType == SignatureArtifact.SimpleSigningMediaType)
            {
                if (old.Digest == layer.Digest && ImageSigner.SignatureOf(old) is { } sig && key.Verify(bytes, sig))
                {
                    return true;
                }
            }
            else if (ImageSigner.TryParseEnvelope(bytes) is { } envelope
                && ImageSigner.TryParseEnvelope(await OciLayoutReader.ReadBlobAsync(files, old, cancellationToken).ConfigureAwait(false)) is { } existing
                && existing.Payload.AsSpan().SequenceEqual(envelope.Payload) && existing.VerifiedBy(key))
            {
                return true;
            }
        }

        return false;
    }

    private static async Task WriteBlobAsync(string layout, Digest digest, Func<CancellationToken, ValueTask<Stream>> open, CancellationToken cancellationToken)
    {
        var path = Path.Combine(layout, "blobs", digest.Algorithm, digest.Hex);
        if (File.Exists(path))
        {
            return;
        }

        await Util.AtomicOutput.WriteFileAsync(path, async (s, ct) =>
        {
            await using var source = await open(ct).ConfigureAwait(false);
            await source.CopyToAsync(s, ct).ConfigureAwait(false);
        }, cancellationToken).ConfigureAwait(false);
    }

    [GeneratedRegex("^sha256-[0-9a-f]{64}\\.(sig|att)$", RegexOptions.CultureInvariant)]
    private static partial Regex TagPattern();
}
