namespace Nuke.Ko;

/// <summary>What <see cref="KoTasks.KoVerify(KoVerifySettings)"/> verified (a failure fails the task instead).</summary>
/// <param name="Images">The verified images, in the order of the references.</param>
public sealed record KoVerifyResult(IReadOnlyList<KoVerifiedImage> Images);
