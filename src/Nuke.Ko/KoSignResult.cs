namespace Nuke.Ko;

/// <summary>What <see cref="KoTasks.KoSign(KoSignSettings)"/> made or found.</summary>
/// <param name="Signatures">Each signature and attestation, per reference the index first, then its platform images.</param>
public sealed record KoSignResult(IReadOnlyList<KoSignature> Signatures);
