using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The native build of dotnet ko has no built-in Kubernetes client (the switch Ko.Engine.Kubernetes.BuiltInClient
/// is off there, see Ko.Cli.csproj): apply, create and delete hand the objects to kubectl, as ko does. These tests run
/// Ko.Cli.dll in its own process with that switch off in its runtimeconfig, against Debian's kubectl and a FAKE
/// Kubernetes API server (no real one runs here).
/// </summary>
public sealed class NativeBuildKubectlTests : IDisposable
{
    private readonly TempDir _dir = new("ko-native-kubectl");
    private readonly FakeKubeApiServer _server = new();

    public void Dispose()
    {
        _server.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Without_the_built_in_client_apply_and_delete_reach_the_cluster_through_kubectl()
    {
        var kubectl = await DebianKubectl.PathAsync();
        var kubeconfig = _server.WriteKubeconfig(_dir.Combine("kubeconfig"));
        var manifest = _dir.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: native\n");
        var path = Path.GetDirectoryName(kubectl) + ":/usr/bin:/bin";

        var apply = await RunWithoutBuiltInClientAsync(path, "apply", "-f", manifest, "--kubeconfig", kubeconfig, "--", "--validate=false");
        Assert.True(apply.ExitCode == 0, apply.Stderr);
        Assert.Contains("configmap/settings created", apply.Stdout);
        var created = Assert.Single(_server.Changes);
        Assert.Equal(("POST", "/api/v1/namespaces/team/configmaps"), (created.Method, created.PathAndQuery.Split('?')[0]));
        Assert.Equal("native", JsonNode.Parse(created.Body)!["data"]!["mode"]!.GetValue<string>());

        var delete = await RunWithoutBuiltInClientAsync(path, "delete", "-f", manifest, "--kubeconfig", kubeconfig);
        Assert.True(delete.ExitCode == 0, delete.Stderr);
        Assert.Contains("configmap/settings deleted", delete.Stdout);
        Assert.Equal("DELETE", _server.Changes[^1].Method);
        Assert.EndsWith("/configmaps/settings", _server.Changes[^1].PathAndQuery.Split('?')[0]);
    }

    [Fact]
    public async Task Without_the_built_in_client_or_kubectl_apply_says_to_install_kubectl_and_sends_nothing()
    {
        var kubeconfig = _server.WriteKubeconfig(_dir.Combine("kubeconfig"));
        var manifest = _dir.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n");

        var apply = await RunWithoutBuiltInClientAsync("/nonexistent", "apply", "-f", manifest, "--kubeconfig", kubeconfig);

        Assert.Equal(1, apply.ExitCode);
        Assert.StartsWith("Error: KO4009: kubectl is not on PATH: this native build of dotnet ko hands the objects to kubectl apply, as ko does.", apply.Stderr.Split('\n').Last(l => l.Length > 0));
        Assert.DoesNotContain("   at ", apply.Stderr);
        Assert.Empty(_server.All);
    }

    /// <summary>Ko.Cli.dll with this build's runtimeconfig plus the switch that the native build sets.</summary>
    private async Task<Repo.KoRun> RunWithoutBuiltInClientAsync(string path, params string[] args)
    {
        var config = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Ko.Cli.runtimeconfig.json")))!;
        config["runtimeOptions"]!["configProperties"]!["Ko.Engine.Kubernetes.BuiltInClient.IsSupported"] = false;
        var runtimeConfig = _dir.WriteFile("native.runtimeconfig.json", config.ToJsonString());

        // The dotnet host running these tests (its PATH entry is not in the child's PATH below).
        var dotnet = Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet" ? Environment.ProcessPath! : "dotnet";
        var info = new ProcessStartInfo(dotnet) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "exec", "--runtimeconfig", runtimeConfig, Path.Combine(AppContext.BaseDirectory, "Ko.Cli.dll") }.Concat(args))
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["PATH"] = path;
        info.Environment["HOME"] = _dir.Path;
        info.Environment.Remove("KUBECONFIG");
        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return new Repo.KoRun(process.ExitCode, await stdout, await stderr);
    }
}
