namespace Nuke.Ko;

/// <summary>What one Kubernetes object became, e.g. <c>deployment.apps/hello serverside-applied</c>.</summary>
/// <param name="Resource">The resource and group, e.g. <c>deployment.apps</c>.</param>
/// <param name="Name">The object's name.</param>
/// <param name="Namespace">Its namespace, for namespaced objects.</param>
/// <param name="Outcome">What happened: <c>serverside-applied</c>, <c>created</c>, <c>deleted</c>, <c>not found</c>.</param>
public sealed record KoObjectResult(string Resource, string Name, string? Namespace, string Outcome)
{
    /// <summary>As kubectl prints it.</summary>
    /// <returns><c>resource/name outcome</c>.</returns>
    public override string ToString() => $"{Resource}/{Name} {Outcome}";
}
