using System.Collections.Concurrent;
using Ko.Engine.Signing;
using Ko.Engine.Sinks;

namespace Ko.Engine.Pipeline;

/// <summary>
/// An OCI layout sink that also stores signatures (<c>build --sign-key --push=false --oci-layout-path DIR</c>): once
/// the layout is written, the index and every platform image are signed for the name the build gave them (and with
/// <c>--attest-sbom</c> each SBOM is attested), and the signature manifests go into the layout beside them
/// (<see cref="LayoutSignatures"/>), where <c>dotnet ko push</c> finds and publishes them with the image.
/// </summary>
internal sealed class LayoutSigningSink(IImageSink layout, string path, SigningKey key, IReadOnlyDictionary<string, string> annotations, bool attest) : IImageSink
{
    private readonly ConcurrentQueue<NamedArtifact> _written = new();

    public async Task<SinkResult> WriteAsync(NamedArtifact artifact, IReadOnlyList<string> tags, CancellationToken cancellationToken)
    {
        var result = await layout.WriteAsync(artifact, tags, cancellationToken).ConfigureAwait(false);
        _written.Enqueue(artifact);
        return result;
    }

    public async Task<IReadOnlyDictionary<string, string>> CompleteAsync(CancellationToken cancellationToken)
    {
        var references = await layout.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var signatures = new List<SignatureArtifact>();
        foreach (var artifact in _written)
        {
            signatures.AddRange(BuildSigner.Subjects(artifact).Select(subject => ImageSigner.SignatureFor(artifact.Name, subject, key, annotations)));
            if (attest)
            {
                signatures.AddRange(artifact.Sboms.Select(s => ImageSigner.AttestationFor(artifact.Name, s.Subject, key, BuildSigner.PredicateType(s.Format), s.Document)));
            }
        }

        await LayoutSignatures.AppendAsync(path, signatures, key.PublicKey, cancellationToken).ConfigureAwait(false);
        return references;
    }

    public void Dispose() => layout.Dispose();
}
