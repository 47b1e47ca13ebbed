using Ko.Engine.Oci;

namespace Ko.Engine.Signing;

/// <summary>What verified: the image's digest, the payloads of the signatures made with the key, the attestations' predicate types.</summary>
/// <param name="Name">The image name (<c>registry/repository</c>).</param>
/// <param name="Digest">The verified manifest or index.</param>
/// <param name="Signatures">The simple-signing payloads that verified with the key and name this image.</param>
/// <param name="PredicateTypes">The predicate types of the attestations that verified (empty unless asked for).</param>
internal sealed record VerificationResult(string Name, Digest Digest, IReadOnlyList<SimpleSigningPayload> Signatures, IReadOnlyList<string> PredicateTypes);
