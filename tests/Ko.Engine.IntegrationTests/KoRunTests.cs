using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// <c>dotnet ko run</c> as ko's pkg/commands/run.go: build, then <c>kubectl run &lt;pod&gt; --image &lt;ref&gt; --attach --rm
/// --restart=Never --log-flush-frequency=1s &lt;args after --&gt;</c>, with Debian's kubectl against
/// <see cref="FakePodApiServer"/> (no real API server runs here).
/// </summary>
public sealed class KoRunTests : IDisposable
{
    private readonly TempDir _dir = new("ko-run");
    private readonly FakePodApiServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    private async Task<Dictionary<string, string?>> EnvAsync()
    {
        var kubectl = await DebianKubectl.PathAsync();
        var kubeconfig = _dir.WriteFile("kubeconfig", $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: fake
              cluster: {server: "{{_server.Server}}"}
            users:
            - name: tester
              user: {token: fake-token}
            contexts:
            - name: fake
              context: {cluster: fake, user: tester, namespace: team}
            current-context: fake
            """);
        // Debian's kubectl first on PATH; HOME keeps kubectl's discovery cache in the test directory.
        return Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
        {
            ["PATH"] = Path.GetDirectoryName(kubectl) + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["HOME"] = _dir.Path,
            ["KUBECONFIG"] = kubeconfig,
            ["KO_DOCKER_REPO"] = "registry.test/team",
        });
    }

    [Fact]
    public async Task Run_builds_then_kubectl_runs_a_pod_with_the_image_digest_and_the_arguments_after_the_dashes()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = await EnvAsync();

        var run = await Repo.KoAsync(env, "run", ".", "-C", src, "--push=false", "--platform", "linux/amd64", "-B", "--", "--labels=team=a", "--", "serve", "--port=8080");

        Assert.True(run.ExitCode == 0, run.ToString());
        // kubectl's output (the pod's log, then --rm's deletion) reaches standard output.
        Assert.Contains(FakePodApiServer.Log.Trim(), run.Stdout);
        Assert.Contains("pod \"hello\" deleted", run.Stdout);
        Assert.Contains("$ kubectl run hello --image registry.test/team/hello:latest@sha256:", run.Stderr);

        var create = Assert.Single(_server.Requests, r => r.Method == "POST");
        Assert.Equal("/api/v1/namespaces/team/pods", create.Path);
        var pod = JsonNode.Parse(create.Body)!;
        Assert.Equal("hello", pod["metadata"]!["name"]!.GetValue<string>());
        Assert.Equal("a", pod["metadata"]!["labels"]!["team"]!.GetValue<string>());
        Assert.Equal("Never", pod["spec"]!["restartPolicy"]!.GetValue<string>());
        var container = pod["spec"]!["containers"]![0]!;
        Assert.Matches(@"^registry\.test/team/hello:latest@sha256:[0-9a-f]{64}$", container["image"]!.GetValue<string>());
        Assert.Equal(["serve", "--port=8080"], container["args"]!.AsArray().Select(a => a!.GetValue<string>()));
        // --attach read the log and --rm deleted the pod.
        Assert.Contains(_server.Requests, r => r.Method == "GET" && r.Path == "/api/v1/namespaces/team/pods/hello/log");
        Assert.Contains(_server.Requests, r => r.Method == "DELETE" && r.Path == "/api/v1/namespaces/team/pods/hello");
    }

    [Fact]
    public async Task A_pod_that_fails_makes_run_fail_with_KO4009()
    {
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var env = await EnvAsync();
        _server.ExitCode = 3;

        var run = await Repo.KoAsync(env, "run", ".", "-C", src, "--push=false", "--platform", "linux/amd64");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("Error: KO4009: kubectl run exited", run.Stderr);
        Assert.Single(_server.Requests, r => r.Method == "POST");
    }

    [Fact]
    public async Task Run_without_an_import_path_or_with_a_flag_first_is_a_usage_error_and_builds_nothing()
    {
        var env = await EnvAsync();

        var none = await Repo.KoAsync(env, "run", "--", "--labels=a=b");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("Error: KO1004:", none.Stderr);
        Assert.Contains("no import path", none.Stderr);

        // ko: "expected first arg to be positional".
        var flagFirst = await Repo.KoAsync(env, "run", "--push=false", ".");
        Assert.Equal(1, flagFirst.ExitCode);
        Assert.Contains("expected the first argument after run to be an import path", flagFirst.Stderr);
        Assert.Empty(_server.Requests);
    }
}

/// <summary>
/// A FAKE Kubernetes API server on 127.0.0.1 for <c>kubectl run --attach --rm</c>: it serves core/v1 discovery (pods),
/// answers the pod POST with the pod as created, lists and watches it as finished (exit code <see cref="ExitCode"/>),
/// serves <see cref="Log"/> as its log and answers DELETE; every request is recorded.
/// </summary>
public sealed class FakePodApiServer : LoopbackHttpFake
{
    /// <summary>What the pod's log holds.</summary>
    public const string Log = "hello from the fake pod\n";

    private readonly List<Recorded> _requests = [];
    private JsonObject? _pod;

    public FakePodApiServer()
    {
        Start();
    }

    /// <summary>The container's exit code the pod reports (0: Succeeded, else Failed).</summary>
    public int ExitCode { get; set; }

    public IReadOnlyList<Recorded> Requests
    {
        get
        {
            lock (_requests)
            {
                return _requests.ToList();
            }
        }
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
        var query = request.Url.Query;
        lock (_requests)
        {
            _requests.Add(new Recorded(request.HttpMethod, path, query, body, request.Headers["Authorization"]));
        }

        var (status, type, text) = Answer(request.HttpMethod, path, query, body);
        var bytes = Encoding.UTF8.GetBytes(text);
        context.Response.StatusCode = status;
        context.Response.ContentType = type;
        context.Response.ContentLength64 = bytes.Length;
        await context.Response.OutputStream.WriteAsync(bytes);
        context.Response.Close();
    }

    private (int Status, string Type, string Body) Answer(string method, string path, string query, string body)
    {
        const string Json = "application/json";
        const string Pods = "/api/v1/namespaces/team/pods";
        switch (method, path)
        {
            case ("GET", "/api"):
                return (200, Json, """{"kind":"APIVersions","versions":["v1"]}""");
            case ("GET", "/apis"):
                return (200, Json, """{"kind":"APIGroupList","apiVersion":"v1","groups":[]}""");
            case ("GET", "/api/v1"):
                return (200, Json, """{"kind":"APIResourceList","groupVersion":"v1","resources":[{"name":"pods","singularName":"pod","namespaced":true,"kind":"Pod","verbs":["create","delete","get","list","watch"]},{"name":"pods/log","singularName":"","namespaced":true,"kind":"Pod","verbs":["get"]}]}""");
            case ("POST", Pods):
                lock (_requests)
                {
                    _pod = JsonNode.Parse(body)!.AsObject();
                }

                return (201, Json, Pod());
            case ("GET", Pods) when query.Contains("watch=true", StringComparison.Ordinal):
                return (200, Json, $$"""{"type":"MODIFIED","object":{{Pod()}}}""" + "\n");
            case ("GET", Pods):
                return (200, Json, $$"""{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"2"},"items":[{{Pod()}}]}""");
            case ("GET", _) when path.StartsWith(Pods + "/", StringComparison.Ordinal) && path.EndsWith("/log", StringComparison.Ordinal):
                return (200, "text/plain", Log);
            case ("GET" or "DELETE", _) when path.StartsWith(Pods + "/", StringComparison.Ordinal):
                return (200, Json, Pod());
            default:
                return (404, Json, $$"""{"kind":"Status","apiVersion":"v1","status":"Failure","reason":"NotFound","code":404,"message":"the fake does not serve {{method}} {{path}}"}""");
        }
    }

    // The created pod, finished: phase Succeeded (exit code 0) or Failed.
    private string Pod()
    {
        JsonObject pod;
        lock (_requests)
        {
            pod = (JsonObject)(_pod ?? new JsonObject { ["kind"] = "Pod", ["apiVersion"] = "v1", ["metadata"] = new JsonObject { ["name"] = "none" }, ["spec"] = new JsonObject { ["containers"] = new JsonArray(new JsonObject { ["name"] = "none" }) } }).DeepClone();
        }

        var metadata = pod["metadata"]!.AsObject();
        metadata["namespace"] = "team";
        metadata["uid"] = "fake-uid";
        metadata["resourceVersion"] = "2";
        var container = pod["spec"]!["containers"]![0]!["name"]!.GetValue<string>();
        pod["status"] = new JsonObject
        {
            ["phase"] = ExitCode == 0 ? "Succeeded" : "Failed",
            ["containerStatuses"] = new JsonArray(new JsonObject
            {
                ["name"] = container,
                ["ready"] = false,
                ["restartCount"] = 0,
                ["image"] = "fake",
                ["imageID"] = string.Empty,
                ["state"] = new JsonObject { ["terminated"] = new JsonObject { ["exitCode"] = ExitCode, ["reason"] = ExitCode == 0 ? "Completed" : "Error" } },
            }),
        };
        return pod.ToJsonString(new JsonSerializerOptions());
    }

    /// <summary>One request the fake received.</summary>
    public sealed record Recorded(string Method, string Path, string Query, string Body, string? Authorization);
}
