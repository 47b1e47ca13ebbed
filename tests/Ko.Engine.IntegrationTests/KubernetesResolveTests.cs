using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>A Knative-style file set resolved against real go builds, pushed to the real docker-registry.</summary>
public sealed class KubernetesResolveTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-resolve");
    private readonly string _src;
    private readonly string _config;

    public KubernetesResolveTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
        KubernetesFiles.AddSecondMain(_src);
        _config = KubernetesFiles.WriteKnativeSet(_dir.Combine("config"));
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Each_import_path_is_built_once_and_every_reference_is_pushed_and_inspectable()
    {
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/knative" });
        var engine = new KoEngine();
        var resolved = await engine.ResolveCoreAsync(new KoResolveOptions
        {
            Files = [_config],
            Recursive = true,
            Build = new KoBuildOptions { WorkingDirectory = _src, Environment = env },
        }, CancellationToken.None);

        // Three references to example.com/hello, one to example.com/hello/cmd/other: two builds, one platform.
        Assert.NotNull(resolved.Statistics);
        Assert.Equal(2, resolved.Statistics!.GoBuilds);
        // In order of first appearance: the initContainer comes first.
        Assert.Equal(["example.com/hello/cmd/other", "example.com/hello"], resolved.Images.Select(i => i.ImportPath));
        Assert.DoesNotContain("image: ko://", resolved.Text);
        Assert.Contains("# controller: keep this comment", resolved.Text);
        foreach (var image in resolved.Images)
        {
            Assert.Matches(@"@sha256:[0-9a-f]{64}$", image.Reference);
            Assert.StartsWith($"{_registry.Host}/knative/", image.Reference);
            var count = resolved.Text.Split(image.Reference).Length - 1;
            Assert.Equal(image.ImportPath == "example.com/hello" ? 3 : 1, count);
            var inspect = await Tools.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{image.Reference}"]);
            Assert.Contains(image.Digest.ToString(), inspect.StandardOutput);
        }

        // The command line, with -l and -o style output to stdout: only the matching Deployment, same references.
        var run = await Repo.KoAsync(env, "resolve", "-C", _src, "-R", "-f", _config, "-l", "app=worker");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("name: worker", run.Stdout);
        Assert.DoesNotContain("name: controller", run.Stdout);
        Assert.Contains(resolved.Images[1].Reference, run.Stdout);
        Assert.DoesNotContain(resolved.Images[0].Reference, run.Stdout);
    }

    [Fact]
    public async Task A_reference_that_is_not_a_main_package_names_its_file_line_and_column()
    {
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/knative" });
        Directory.CreateDirectory(Path.Combine(_src, "lib"));
        await File.WriteAllTextAsync(Path.Combine(_src, "lib", "lib.go"), "package lib\n\nfunc X() int { return 1 }\n");
        var bad = _dir.Combine("bad.yaml");
        await File.WriteAllTextAsync(bad, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: ko://example.com/hello/lib\n");
        var run = await Repo.KoAsync(env, "resolve", "-C", _src, "-f", bad);
        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"{bad}:7:12: ko://example.com/hello/lib:", run.Stderr);
        Assert.Contains(KoErrorCodes.NotMainPackage, run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }
}

/// <summary>The files the Kubernetes tests use.</summary>
internal static class KubernetesFiles
{
    /// <summary>Adds a second main package, example.com/hello/cmd/other, next to examples/hello's.</summary>
    public static void AddSecondMain(string src)
    {
        Directory.CreateDirectory(Path.Combine(src, "cmd", "other"));
        File.WriteAllText(Path.Combine(src, "cmd", "other", "main.go"), "package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"other\") }\n");
    }

    /// <summary>Two Deployments (one with an initContainer) in two files and a Service in a subdirectory.</summary>
    public static string WriteKnativeSet(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "core"));
        File.WriteAllText(Path.Combine(dir, "controller.yaml"), """
            # controller: keep this comment
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: controller
              labels: {app: controller}
            spec:
              template:
                spec:
                  initContainers:
                  - name: migrate
                    image: ko://example.com/hello/cmd/other
                  containers:
                  - name: controller
                    image: "ko://example.com/hello"   # quoted
                    env:
                    - name: SIDECAR_IMAGE
                      value: ko://example.com/hello
            """);
        File.WriteAllText(Path.Combine(dir, "core", "worker.yml"), """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: worker
              labels:
                app: worker
            spec:
              template:
                spec:
                  containers:
                  - name: worker
                    image: ko://example.com/hello
            """);
        File.WriteAllText(Path.Combine(dir, "notes.txt"), "image: ko://not/read\n");
        return dir;
    }
}
