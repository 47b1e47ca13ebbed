namespace Ko.Engine.Signing;

/// <summary>The outcome of <see cref="KoEngine.SignAsync"/>.</summary>
/// <param name="Signatures">Each signature and attestation, in the order of the references; per reference the index first, then its platform images.</param>
public sealed record KoSignResult(IReadOnlyList<KoSignature> Signatures);
