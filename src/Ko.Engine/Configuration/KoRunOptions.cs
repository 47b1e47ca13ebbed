namespace Ko.Engine.Configuration;

/// <summary>What <see cref="KoEngine.RunAsync"/> builds and how it hands the images to <c>kubectl run</c>.</summary>
public sealed record KoRunOptions
{
    /// <summary>What to build: the import paths (each becomes one pod) and every build setting.</summary>
    public KoBuildOptions Build { get; init; } = new();

    /// <summary>Arguments passed to <c>kubectl run</c> after ko's defaults, as given (ko: everything after the first <c>--</c>).</summary>
    public IReadOnlyList<string> KubectlArguments { get; init; } = [];

    /// <summary>Where kubectl's standard output goes, line by line as it comes; null discards it.</summary>
    public TextWriter? Output { get; init; }

    /// <summary>Where kubectl's standard error goes, line by line as it comes; null discards it.</summary>
    public TextWriter? Error { get; init; }
}

/// <summary>The outcome of <see cref="KoEngine.RunAsync"/>: the images built and the kubectl command run for each.</summary>
/// <param name="Build">The build's result.</param>
/// <param name="Commands">Each kubectl invocation's arguments (after <c>kubectl</c>), in image order.</param>
public sealed record KoRunResult(KoBuildResult Build, IReadOnlyList<IReadOnlyList<string>> Commands);
