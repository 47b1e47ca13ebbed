namespace Ko.Engine.Configuration;

/// <summary>What <see cref="KoEngine.ResolveAsync"/> reads and how it builds the images it finds.</summary>
public sealed record KoResolveOptions
{
    /// <summary>Files or directories (<c>-f</c>); <c>-</c> reads <see cref="StandardInput"/>.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>Descend into subdirectories of directory arguments (<c>-R</c>).</summary>
    public bool Recursive { get; init; }

    /// <summary>A label selector (<c>-l</c>, e.g. <c>app=web,tier!=db</c>); documents that do not match are left out.</summary>
    public string? Selector { get; init; }

    /// <summary>How to build the referenced import paths (repository, platforms, tags, push...); its ImportPaths are ignored.</summary>
    public KoBuildOptions Build { get; init; } = new();

    /// <summary>Write the resolved YAML to this file (atomically) instead of only returning it.</summary>
    public string? OutputPath { get; init; }

    /// <summary>What <c>-</c> reads; null means the process's standard input.</summary>
    public TextReader? StandardInput { get; init; }

    /// <summary>
    /// Replace <c>ko://</c> references from the build record in this file (written by a build with
    /// <see cref="KoBuildOptions.BuildRecordPath"/>) and build nothing; <see cref="Build"/> is then unused. An import path
    /// missing from the record is <c>KO4020</c> naming the file and line of the reference.
    /// </summary>
    public string? BuildRecordPath { get; init; }

    /// <summary>Replace <c>ko://</c> references from these images (e.g. <c>new BuildRecord(buildResult.Images)</c>) and build nothing; wins over <see cref="BuildRecordPath"/>.</summary>
    public Records.BuildRecord? Images { get; init; }
}

/// <summary>The outcome of <see cref="KoEngine.ResolveAsync"/>.</summary>
/// <param name="Text">The resolved YAML, documents in input order.</param>
/// <param name="Images">The images built, one per distinct import path.</param>
public sealed record KoResolveResult(string Text, IReadOnlyList<KoImageResult> Images);

/// <summary>What <see cref="KoEngine.ApplyAsync"/> and <see cref="KoEngine.CreateAsync"/> send to a cluster.</summary>
public sealed record KoApplyOptions
{
    /// <summary>The files to resolve and the build settings.</summary>
    public KoResolveOptions Resolve { get; init; } = new();

    /// <summary>The kubeconfig file; null means <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The kubeconfig context; null means the current one.</summary>
    public string? Context { get; init; }

    /// <summary>The namespace for namespaced objects that name none.</summary>
    public string? Namespace { get; init; }

    /// <summary>Server-side apply takes ownership of conflicting fields (<c>--force-conflicts</c>).</summary>
    public bool ForceConflicts { get; init; }

    /// <summary>Send every object even when one fails (the operation still fails at the end, naming each failure).</summary>
    public bool ContinueOnError { get; init; }

    /// <summary>Hand the resolved stream to <c>kubectl apply|create -f -</c> instead of the API client.</summary>
    public bool UseKubectl { get; init; }

    /// <summary>Arguments passed to kubectl after <c>-f -</c>.</summary>
    public IReadOnlyList<string> KubectlArguments { get; init; } = [];
}

/// <summary>What one object became, e.g. <c>deployment.apps/hello serverside-applied</c>.</summary>
/// <param name="Resource">The resource and group, e.g. <c>deployment.apps</c>.</param>
/// <param name="Name">The object's name.</param>
/// <param name="Namespace">Its namespace, for namespaced objects.</param>
/// <param name="Outcome">What happened: <c>serverside-applied</c>, <c>created</c>, <c>deleted</c>, <c>not found</c>.</param>
public sealed record KoObjectResult(string Resource, string Name, string? Namespace, string Outcome)
{
    /// <inheritdoc />
    public override string ToString() => $"{Resource}/{Name} {Outcome}";
}

/// <summary>The outcome of apply, create or delete.</summary>
/// <param name="Objects">One entry per object, in input order.</param>
/// <param name="Images">The images built (none for delete).</param>
public sealed record KoApplyResult(IReadOnlyList<KoObjectResult> Objects, IReadOnlyList<KoImageResult> Images);

/// <summary>What <see cref="KoEngine.DeleteAsync"/> deletes: the objects the files describe (nothing is built).</summary>
public sealed record KoDeleteOptions
{
    /// <summary>Files or directories; <c>-</c> reads <see cref="StandardInput"/>.</summary>
    public IReadOnlyList<string> Files { get; init; } = [];

    /// <summary>Descend into subdirectories.</summary>
    public bool Recursive { get; init; }

    /// <summary>A label selector.</summary>
    public string? Selector { get; init; }

    /// <summary>The kubeconfig file; null means <c>KUBECONFIG</c>, else <c>~/.kube/config</c>.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The kubeconfig context.</summary>
    public string? Context { get; init; }

    /// <summary>The namespace for namespaced objects that name none.</summary>
    public string? Namespace { get; init; }

    /// <summary>A missing object is reported, not an error (default true, as <c>--ignore-not-found</c>).</summary>
    public bool IgnoreNotFound { get; init; } = true;

    /// <summary>What <c>-</c> reads; null means the process's standard input.</summary>
    public TextReader? StandardInput { get; init; }

    /// <summary>The environment (<c>KUBECONFIG</c>, <c>HOME</c>); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}

/// <summary>What <see cref="KoEngine.LoginAsync"/> stores, as <c>docker login</c> does.</summary>
public sealed record KoLoginOptions
{
    /// <summary>The registry host, e.g. <c>registry.example:5000</c>.</summary>
    public required string Registry { get; init; }

    /// <summary>The user name.</summary>
    public required string Username { get; init; }

    /// <summary>The password or token; never logged.</summary>
    public required string Password { get; init; }

    /// <summary>Plain HTTP and no TLS verification for the registry.</summary>
    public bool InsecureRegistry { get; init; }

    /// <summary>The environment (<c>DOCKER_CONFIG</c>, <c>HOME</c>, <c>PATH</c> for credential helpers); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>Never prints the password.</summary>
    public override string ToString() => $"KoLoginOptions {{ Registry = {Registry}, Username = {Username}, Password = *** }}";
}
