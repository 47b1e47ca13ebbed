namespace Ko.Engine.Kubernetes;

/// <summary>
/// Whether this build carries the in-process Kubernetes client (KubernetesClient). The native (ahead-of-time) build
/// of <c>dotnet ko</c> turns it off: KubernetesClient is not AOT-compatible, and its thousands of model types were
/// most of the native binary's start-up time. Without it, apply, create and delete hand the objects to kubectl, as ko
/// itself does. The dotnet tool, Cake.Ko and Nuke.Ko keep it.
/// </summary>
internal static class BuiltInClient
{
    /// <summary>The runtime switch (<c>RuntimeHostConfigurationOption</c>, trimmed as a constant in the native build).</summary>
    internal const string Switch = "Ko.Engine.Kubernetes.BuiltInClient.IsSupported";

    /// <summary>True unless the switch turns the built-in client off.</summary>
#if NET9_0_OR_GREATER
    [System.Diagnostics.CodeAnalysis.FeatureSwitchDefinition(Switch)]
#endif
    public static bool IsSupported => !AppContext.TryGetSwitch(Switch, out var on) || on;
}
