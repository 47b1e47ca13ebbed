using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Layers;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// What every stage of one build run shares: the plan (all settings, read once), the cache, the go tool, the
/// registry settings (made on first use, so a run that touches no registry never loads the HTTP stack), the log,
/// progress and counters.
/// </summary>
internal sealed class BuildRun
{
    private readonly Lazy<RegistryOptions> _registry;

    public BuildRun(BuildPlan plan, ILogger logger, IProgress<KoProgress>? progress)
    {
        Plan = plan;
        Logger = logger;
        Progress = progress;
        Store = new ContentStore(plan.CacheDirectory);
        Cache = new LayerCache(Store, plan.Compression);
        // go runs are recorded in the cache, and those a killed run left behind are stopped first.
        Go = new GoTool(GoTool.Locate(plan.Environment), plan.Environment, logger, Tools.ChildRegistry.Open(Path.Combine(Store.Root, "go", "running"), logger), new GoListCache(Path.Combine(Store.Root, "go", "list")));
        Templates = new TemplateContext(plan.Environment, plan.WorkingDirectory, plan.TemplateTime, ct => Go.EnvAsync(plan.WorkingDirectory, ct));
        _registry = new Lazy<RegistryOptions>(() => RegistryOptionsFor(plan, logger, progress));
    }

    public BuildPlan Plan { get; }

    public ILogger Logger { get; }

    public IProgress<KoProgress>? Progress { get; }

    public ContentStore Store { get; }

    public LayerCache Cache { get; }

    public GoTool Go { get; }

    public TemplateContext Templates { get; }

    /// <summary>One set of registry settings for reading bases and for pushing.</summary>
    public RegistryOptions Registry => _registry.Value;

    public System.Diagnostics.Stopwatch Clock { get; } = System.Diagnostics.Stopwatch.StartNew();

    public BuildCounters Counters { get; } = new();

    /// <summary>The registry settings of a plan: TLS, credentials, retries (KO_REGISTRY_RETRY_*), log and progress.</summary>
    public static RegistryOptions RegistryOptionsFor(BuildPlan plan, ILogger logger, IProgress<KoProgress>? progress) =>
        RegistryOptionsFor(plan.InsecureRegistry, plan.Environment, logger, progress);

    /// <summary>Registry settings from an environment: docker's credentials, the retry and timeout variables, log and progress.</summary>
    public static RegistryOptions RegistryOptionsFor(bool insecure, IReadOnlyDictionary<string, string?> environment, ILogger logger, IProgress<KoProgress>? progress) => RetryHandler.FromEnvironment(new RegistryOptions
    {
        Insecure = insecure,
        Environment = environment,
        Credentials = new Registry.Credentials.DockerCredentials(environment, logger),
        Logger = logger,
        Progress = progress,
    });
}
