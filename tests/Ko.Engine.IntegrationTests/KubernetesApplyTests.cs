using System.Net;
using System.Text;
using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>apply, create and delete against <see cref="FakeKubeApiServer"/> (no real API server can run here).</summary>
public sealed class KubernetesApplyTests : IDisposable
{
    private readonly TempDir _dir = new("ko-apply");
    private readonly FakeKubeApiServer _server = new();
    private readonly string _src;
    private readonly string _kubeconfig;
    private readonly Dictionary<string, string?> _env;

    public KubernetesApplyTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _kubeconfig = _server.WriteKubeconfig(_dir.Combine("kubeconfig"));
        _env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = "registry.test/team", ["KUBECONFIG"] = null });
    }

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    private string Manifests(string text)
    {
        var path = _dir.Combine($"m-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, text);
        return path;
    }

    private const string Mixed = """
        apiVersion: apps/v1
        kind: Deployment
        metadata:
          name: hello
        spec:
          template:
            spec:
              containers:
              - name: hello
                image: ko://example.com/hello
        ---
        apiVersion: example.com/v1
        kind: Widget
        metadata: {name: w1}
        ---
        apiVersion: example.com/v1
        kind: Gadget
        metadata: {name: g1}
        ---
        apiVersion: apiextensions.k8s.io/v1
        kind: CustomResourceDefinition
        metadata: {name: widgets.example.com}
        ---
        apiVersion: v1
        kind: Namespace
        metadata: {name: team}
        ---
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: settings, namespace: explicit}
        data: {a: "1"}
        """;

    [Fact]
    public async Task Apply_is_server_side_apply_namespaces_and_crds_first_with_the_resolved_image()
    {
        var result = await new KoEngine().ApplyAsync(new KoApplyOptions
        {
            Resolve = new KoResolveOptions { Files = [Manifests(Mixed)], Build = new KoBuildOptions { WorkingDirectory = _src, Push = false, Environment = _env } },
            Kubeconfig = _kubeconfig,
            ForceConflicts = true,
        });

        var reference = Assert.Single(result.Images).Reference;
        Assert.Equal(
            [
                "namespace/team serverside-applied",
                "customresourcedefinition.apiextensions.k8s.io/widgets.example.com serverside-applied",
                "deployment.apps/hello serverside-applied",
                "widget.example.com/w1 serverside-applied",
                "gadget.example.com/g1 serverside-applied",
                "configmap/settings serverside-applied",
            ],
            result.Objects.Select(o => o.ToString()));
        var changes = _server.Changes;
        Assert.Equal(
            [
                "PATCH /api/v1/namespaces/team?fieldManager=ko&force=true",
                "PATCH /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com?fieldManager=ko&force=true",
                "PATCH /apis/apps/v1/namespaces/team/deployments/hello?fieldManager=ko&force=true",
                "PATCH /apis/example.com/v1/namespaces/team/widgets/w1?fieldManager=ko&force=true",
                "PATCH /apis/example.com/v1/gadgets/g1?fieldManager=ko&force=true",
                "PATCH /api/v1/namespaces/explicit/configmaps/settings?fieldManager=ko&force=true",
            ],
            changes.Select(c => $"{c.Method} {c.PathAndQuery}"));
        Assert.All(changes, c => Assert.Equal("application/apply-patch+yaml", c.ContentType));
        Assert.All(_server.All, c => Assert.Equal("Bearer fake-token", c.Authorization));
        Assert.Contains($"\"image\":\"{reference}\"", changes[2].Body);
        Assert.Contains("\"data\":{\"a\":\"1\"}", changes[5].Body);
    }

    [Fact]
    public async Task Create_posts_to_collections_in_the_namespace_and_context_given_on_the_command_line()
    {
        var run = await Repo.KoAsync(_env, "create", "-C", _src, "--push=false", "--kubeconfig", _kubeconfig, "--context", "elsewhere", "-f", Manifests(Mixed), "-l", "!nothing");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("deployment.apps/hello created", run.Stdout);
        var changes = _server.Changes;
        Assert.All(changes, c => Assert.Equal("POST", c.Method));
        Assert.All(changes, c => Assert.Equal("application/json", c.ContentType));
        Assert.Contains(changes, c => c.PathAndQuery == "/apis/apps/v1/namespaces/elsewhere/deployments?fieldManager=ko");
        Assert.Contains(changes, c => c.PathAndQuery == "/apis/example.com/v1/gadgets?fieldManager=ko");

        var ns = await Repo.KoAsync(_env, "apply", "-C", _src, "--push=false", "--kubeconfig", _kubeconfig, "-n", "given", "-f", Manifests(Mixed), "-l", "app notin (x)");
        Assert.True(ns.ExitCode == 0, ns.ToString());
        Assert.Contains(_server.Changes, c => c.PathAndQuery == "/apis/apps/v1/namespaces/given/deployments/hello?fieldManager=ko");
    }

    [Fact]
    public async Task Delete_reports_missing_objects_unless_told_not_to_ignore_them()
    {
        _server.Missing.Add("w1");
        var kubeEnv = new Dictionary<string, string?>(_env) { ["KUBECONFIG"] = _kubeconfig };
        var run = await Repo.KoAsync(kubeEnv, "delete", "-f", Manifests(Mixed));
        Assert.True(run.ExitCode == 0, run.ToString());
        var lines = run.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains("widget.example.com/w1 not found", lines);
        Assert.Contains("deployment.apps/hello deleted", lines);
        Assert.Equal("namespace/team deleted", lines[^1]);
        Assert.All(_server.Changes, c => Assert.Equal("DELETE", c.Method));
        Assert.Contains(_server.Changes, c => c.PathAndQuery == "/apis/apps/v1/namespaces/team/deployments/hello");

        var strict = await Repo.KoAsync(kubeEnv, "delete", "-f", Manifests(Mixed), "--ignore-not-found=false");
        Assert.Equal(1, strict.ExitCode);
        Assert.Contains(KoErrorCodes.ObjectNotFound, strict.Stderr);
    }

    [Fact]
    public async Task An_unknown_kind_stops_the_run_and_nothing_after_it_is_applied()
    {
        var path = Manifests("""
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: first}
            ---
            apiVersion: apps/v1
            kind: Gizmo
            metadata: {name: g}
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: after}
            """);
        var run = await Repo.KoAsync(_env, "apply", "--kubeconfig", _kubeconfig, "-f", path);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains(KoErrorCodes.UnknownKind, run.Stderr);
        Assert.Equal(["/api/v1/namespaces/team/configmaps/first?fieldManager=ko"], _server.Changes.Select(c => c.PathAndQuery));

        // --continue-on-error sends the rest and still fails the run, naming the failure.
        var going = await Repo.KoAsync(_env, "apply", "--kubeconfig", _kubeconfig, "-f", path, "--continue-on-error");
        Assert.Equal(1, going.ExitCode);
        Assert.Contains(KoErrorCodes.UnknownKind, going.Stderr);
        Assert.Contains("1 object(s) could not be sent (2 were)", going.Stderr);
        Assert.Contains("/api/v1/namespaces/team/configmaps/after?fieldManager=ko", _server.Changes.Select(c => c.PathAndQuery));
    }

    [Fact]
    public async Task An_unreachable_cluster_fails_and_cancels_the_builds()
    {
        var closed = _dir.Combine("closed-kubeconfig");
        File.WriteAllText(closed, File.ReadAllText(_kubeconfig).Replace(_server.Server, $"http://127.0.0.1:{RegistryFixture.FreePort()}", StringComparison.Ordinal));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var ex = await Assert.ThrowsAsync<KoException>(() => new KoEngine().ApplyAsync(new KoApplyOptions
        {
            Resolve = new KoResolveOptions { Files = [Manifests(Mixed)], Build = new KoBuildOptions { WorkingDirectory = _src, Push = false, Environment = _env } },
            Kubeconfig = closed,
        }));
        Assert.Equal(KoErrorCodes.ClusterUnreachable, ex.Code);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());

        var missing = await Repo.KoAsync(_env, "apply", "--kubeconfig", _dir.Combine("none"), "-f", Manifests(Mixed));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains(KoErrorCodes.ClusterUnreachable, missing.Stderr);
    }
}

/// <summary>
/// A FAKE Kubernetes API server on 127.0.0.1, because no real API server can run on these machines. It serves
/// discovery for core/v1 (namespaces and configmaps), apps/v1 (deployments, namespaced), apiextensions.k8s.io/v1
/// (customresourcedefinitions, cluster-scoped) and one CRD group, example.com/v1 (widgets namespaced, gadgets
/// cluster-scoped); records every request; answers PATCH 200, POST 201, DELETE 200 or 404 for names in
/// <see cref="Missing"/>.
/// </summary>
public sealed class FakeKubeApiServer : LoopbackHttpFake
{
    private readonly List<Recorded> _requests = [];

    public FakeKubeApiServer()
    {
        Start();
    }

    /// <summary>Object names that DELETE answers with 404.</summary>
    public HashSet<string> Missing { get; } = new(StringComparer.Ordinal);

    /// <summary>Every request but discovery GETs, in order.</summary>
    public IReadOnlyList<Recorded> Changes
    {
        get
        {
            lock (_requests)
            {
                return _requests.Where(r => r.Method != "GET").ToList();
            }
        }
    }

    public IReadOnlyList<Recorded> All
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>Writes a kubeconfig that points at this server (token auth, namespace <paramref name="ns"/>).</summary>
    public string WriteKubeconfig(string path, string ns = "team")
    {
        File.WriteAllText(path, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster:
                server: {{Server}}
            users:
            - name: tester
              user:
                token: fake-token
            contexts:
            - name: fake
              context: {cluster: fake, user: tester, namespace: {{ns}}}
            - name: elsewhere
              context: {cluster: fake, user: tester, namespace: elsewhere}
            current-context: fake
            """);
        return path;
    }

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        string body;
        using (var reader = new StreamReader(request.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync();
        }

        var path = request.Url!.AbsolutePath;
        lock (_requests)
        {
            _requests.Add(new Recorded(request.HttpMethod, request.Url.PathAndQuery, request.ContentType, body, request.Headers["Authorization"]));
        }

        var (status, json) = request.HttpMethod switch
        {
            "GET" => Discovery(path) is { } d ? (200, d) : (404, Status(404, "NotFound", $"the server could not find the requested resource {path}")),
            "PATCH" => (200, body),
            "POST" => (201, body),
            "DELETE" => Missing.Contains(path[(path.LastIndexOf('/') + 1)..]) ? (404, Status(404, "NotFound", "not found")) : (200, Status(200, "Success", "deleted")),
            _ => (405, Status(405, "MethodNotAllowed", "no")),
        };
        var bytes = Encoding.UTF8.GetBytes(json);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private static string Status(int code, string reason, string message) =>
        $$"""{"kind":"Status","apiVersion":"v1","status":"{{(code < 300 ? "Success" : "Failure")}}","reason":"{{reason}}","message":"{{message}}","code":{{code}}}""";

    private static string? Discovery(string path) => path switch
    {
        "/api" => """{"kind":"APIVersions","versions":["v1"]}""",
        "/api/v1" => Resources("v1", ("namespaces", "namespace", "Namespace", false), ("configmaps", "configmap", "ConfigMap", true), ("configmaps/status", "", "ConfigMap", true)),
        "/apis" => """{"kind":"APIGroupList","groups":[{"name":"apps","versions":[{"groupVersion":"apps/v1","version":"v1"}]},{"name":"apiextensions.k8s.io","versions":[{"groupVersion":"apiextensions.k8s.io/v1","version":"v1"}]},{"name":"example.com","versions":[{"groupVersion":"example.com/v1","version":"v1"}]}]}""",
        "/apis/apps/v1" => Resources("apps/v1", ("deployments/scale", "", "Scale", true), ("deployments", "deployment", "Deployment", true)),
        "/apis/apiextensions.k8s.io/v1" => Resources("apiextensions.k8s.io/v1", ("customresourcedefinitions", "customresourcedefinition", "CustomResourceDefinition", false)),
        "/apis/example.com/v1" => Resources("example.com/v1", ("widgets", "widget", "Widget", true), ("gadgets", "gadget", "Gadget", false)),
        _ => null,
    };

    private static string Resources(string groupVersion, params (string Name, string Singular, string Kind, bool Namespaced)[] resources) =>
        $$"""{"kind":"APIResourceList","groupVersion":"{{groupVersion}}","resources":[{{string.Join(",", resources.Select(r => $$"""{"name":"{{r.Name}}","singularName":"{{r.Singular}}","namespaced":{{(r.Namespaced ? "true" : "false")}},"kind":"{{r.Kind}}","verbs":["create","delete","get","patch"]}"""))}}]}""";

    /// <summary>One request the fake received.</summary>
    public sealed record Recorded(string Method, string PathAndQuery, string? ContentType, string Body, string? Authorization);
}
