using Ko.Engine.Registry;
using Ko.Engine.Signing;
using Ko.Engine.Sinks;

namespace Ko.Engine.Pipeline;

/// <summary>
/// A registry sink that signs what it pushed (<c>--sign-key</c>): the index and every platform image, in cosign's
/// format, and with <c>--attest-sbom</c> each SBOM as a signed attestation of its subject, right after the push.
/// Used by builds (<c>build --sign-key</c>) and by <c>push --sign-key</c>; <see cref="Signatures"/> lists what it did.
/// </summary>
internal sealed class SigningSink(IImageSink registry, RegistryOptions options, SigningKey key, IReadOnlyDictionary<string, string> annotations, bool attest) : IImageSink
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<KoSignature> _signatures = new();

    public async Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var result = await registry.WriteAsync(artifact, tags, cancellationToken).ConfigureAwait(false);
        var outcomes = await BuildSigner.SignAsync(options, artifact, key, annotations, attest ? artifact.Sboms : null, cancellationToken).ConfigureAwait(false);
        foreach (var outcome in outcomes)
        {
            _signatures.Enqueue(outcome.ToPublic());
        }

        return result;
    }

    /// <summary>Every signature and attestation made (or found) so far, in the order each push made them.</summary>
    public IReadOnlyList<KoSignature> Signatures => [.. _signatures];

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken) => registry.CompleteAsync(cancellationToken);

    public void Dispose() => registry.Dispose();
}
