using Ko.Engine.Registry;
using Ko.Engine.Signing;
using Ko.Engine.Sinks;

namespace Ko.Engine.Pipeline;

/// <summary>
/// A registry sink that signs what it pushed (<c>--sign-key</c>): the index and every platform image, in cosign's
/// format, and with <c>--attest-sbom</c> each SBOM as a signed attestation of its subject, right after the push.
/// </summary>
internal sealed class SigningSink(IImageSink registry, RegistryOptions options, SigningKey key, IReadOnlyDictionary<string, string> annotations, bool attest) : IImageSink
{
    public async Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var result = await registry.WriteAsync(artifact, tags, cancellationToken).ConfigureAwait(false);
        await BuildSigner.SignAsync(options, artifact, key, annotations, attest ? artifact.Sboms : null, cancellationToken).ConfigureAwait(false);
        return result;
    }

    public Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken) => registry.CompleteAsync(cancellationToken);

    public void Dispose() => registry.Dispose();
}
