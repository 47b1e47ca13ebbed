namespace Ko.Engine.IntegrationTests;

/// <summary>
/// ko's delete (pkg/commands/delete.go) is kubectl delete with every argument passed through: flags the built-in
/// delete does not know (--all, -l without -f) reach the real kubectl, whose failure is reported as KO4009.
/// </summary>
public sealed class KubectlPassthroughTests
{
    [Fact]
    public async Task Delete_with_all_and_no_file_runs_kubectl_delete_with_every_argument()
    {
        var kubectl = Tools.Require("kubectl");
        using var dir = new TempDir("ko-kubectl");
        // A cluster at a closed loopback port: kubectl must get --all and --kubeconfig and then fail to connect.
        var kubeconfig = dir.WriteFile("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:9\"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n");
        var env = new Dictionary<string, string?> { ["PATH"] = Path.GetDirectoryName(kubectl) + ":/usr/bin:/bin", ["HOME"] = dir.Path };

        var run = await Repo.KoAsync(env, "delete", "--all", "pods", "--kubeconfig", kubeconfig, "--request-timeout=5s");

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: KO4009: kubectl delete exited", run.Stderr);
        Assert.Contains("127.0.0.1:9", run.Stderr);
        Assert.DoesNotContain("Unrecognized", run.Stderr);
    }

    [Fact]
    public async Task Delete_with_a_file_still_uses_the_built_in_client_and_needs_no_kubectl()
    {
        using var dir = new TempDir("ko-kubectl-builtin");
        var file = dir.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n");
        var kubeconfig = dir.WriteFile("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: \"http://127.0.0.1:9\"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {}\ncurrent-context: c\n");
        var env = new Dictionary<string, string?> { ["PATH"] = "/nonexistent", ["HOME"] = dir.Path };

        var run = await Repo.KoAsync(env, "delete", "-f", file, "--kubeconfig", kubeconfig);

        Assert.Equal(1, run.ExitCode);
        Assert.DoesNotContain("KO4009", run.Stderr);
        Assert.Matches(@"^Error: KO\d{4}: ", run.Stderr);
    }
}
