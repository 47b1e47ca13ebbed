namespace Nuke.Ko;

/// <summary>What <c>KoTasks.KoApply</c>, <c>KoCreate</c> and <c>KoDelete</c> did.</summary>
/// <param name="Objects">One entry per object, in input order.</param>
/// <param name="Images">The images built (none for delete).</param>
public sealed record KoApplyResult(IReadOnlyList<KoObjectResult> Objects, IReadOnlyList<KoImage> Images);
