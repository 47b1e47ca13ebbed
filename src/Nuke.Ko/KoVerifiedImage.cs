namespace Nuke.Ko;

/// <summary>One verified image.</summary>
/// <param name="Name">The image name (<c>registry/repository</c>).</param>
/// <param name="Digest">The verified manifest or index, <c>sha256:…</c>.</param>
/// <param name="Signatures">How many signatures verified with the key and name this image and repository.</param>
/// <param name="PredicateTypes">The predicate types of the attestations that verified (empty unless asked for).</param>
public sealed record KoVerifiedImage(string Name, string Digest, int Signatures, IReadOnlyList<string> PredicateTypes)
{
    /// <summary>The image by digest, <c>name@sha256:…</c>.</summary>
    public string Reference => $"{Name}@{Digest}";
}
