using Cake.Core.IO;

namespace Cake.Ko;

/// <summary>How <c>KoResolve</c> reads manifests and builds the <c>ko://</c> images they reference (the build settings apply to each).</summary>
public class KoResolveSettings : KoBuildSettings
{
    /// <summary>Descend into subdirectories of directory arguments (<c>-R</c>).</summary>
    public bool Recursive { get; set; }

    /// <summary>A label selector (<c>-l</c>, e.g. <c>app=web,tier!=db</c>); documents that do not match are left out.</summary>
    public string? Selector { get; set; }

    /// <summary>Also write the resolved YAML to this file (atomically).</summary>
    public FilePath? OutputPath { get; set; }

    // ---- build record (issue 15) ----

    /// <summary>
    /// Replace <c>ko://</c> references with these images, e.g. what an earlier <c>KoBuild</c> returned, and build
    /// nothing; the build settings are then unused. An import path that is not among them fails with <c>KO4020</c>
    /// naming the file and line. Wins over <see cref="KoBuildSettings.BuildRecordPath"/>.
    /// </summary>
    /// <example>
    /// <code>
    /// var built = KoBuild("./cmd/server", new KoBuildSettings { Repository = "registry.example/team", Tags = { "1.2.3" } });
    /// KoApply("./k8s", new KoApplySettings { Images = built });
    /// </code>
    /// </example>
    public KoBuildResult? Images { get; set; }
}

/// <summary>How <c>KoApply</c> and <c>KoCreate</c> resolve manifests and send them to a cluster.</summary>
public class KoApplySettings : KoResolveSettings
{
    /// <summary>The kubeconfig file; default <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.</summary>
    public FilePath? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context; default the current one.</summary>
    public string? Context { get; set; }

    /// <summary>The namespace for namespaced objects that name none.</summary>
    public string? Namespace { get; set; }

    /// <summary>Server-side apply takes ownership of conflicting fields (<c>--force-conflicts</c>).</summary>
    public bool ForceConflicts { get; set; }

    /// <summary>Send every object even when one fails (<c>--continue-on-error</c>); the call still fails at the end, naming each failure.</summary>
    public bool ContinueOnError { get; set; }

    /// <summary>Hand the resolved stream to <c>kubectl apply|create -f -</c> instead of the built-in API client.</summary>
    public bool UseKubectl { get; set; }

    /// <summary>Arguments passed to kubectl after <c>-f -</c> (with <see cref="UseKubectl"/>).</summary>
    public ICollection<string> KubectlArguments { get; set; } = new List<string>();
}

/// <summary>How <c>KoDelete</c> finds the objects to delete (nothing is built).</summary>
public sealed class KoDeleteSettings
{
    /// <summary>Descend into subdirectories of directory arguments.</summary>
    public bool Recursive { get; set; }

    /// <summary>A label selector.</summary>
    public string? Selector { get; set; }

    /// <summary>The kubeconfig file; default <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.</summary>
    public FilePath? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context.</summary>
    public string? Context { get; set; }

    /// <summary>The namespace for namespaced objects that name none.</summary>
    public string? Namespace { get; set; }

    /// <summary>A missing object is reported, not an error (default <c>true</c>).</summary>
    public bool IgnoreNotFound { get; set; } = true;

    /// <summary>Variables added to (or, with a null value, removed from) the Cake context's environment, e.g. <c>KUBECONFIG</c>.</summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);
}
