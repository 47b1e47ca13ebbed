namespace Ko.Engine.Signing;

/// <summary>The outcome of <see cref="KoEngine.VerifyAsync"/>: every image verified (a failure is a <see cref="KoException"/> instead).</summary>
/// <param name="Images">The verified images, in the order of the references.</param>
public sealed record KoVerifyResult(IReadOnlyList<KoVerifiedImage> Images);
