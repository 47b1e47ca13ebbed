namespace Nuke.Ko;

/// <summary>What <c>KoTasks.KoResolve</c> produced.</summary>
/// <param name="Text">The resolved YAML, documents in input order.</param>
/// <param name="Images">The images built (or taken from <c>SetImages</c>/<c>SetBuildRecord</c>), one per distinct import path.</param>
public sealed record KoResolveResult(string Text, IReadOnlyList<KoImage> Images);
