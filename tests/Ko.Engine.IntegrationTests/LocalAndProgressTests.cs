using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;
using Microsoft.Extensions.Logging;
using Ko.Engine.Sinks;

namespace Ko.Engine.IntegrationTests;

/// <summary>A progress sink that records every report synchronously, in the order the engine made them.</summary>
public sealed class RecordingProgress : IProgress<KoProgress>
{
    private readonly List<KoProgress> _events = [];

    public IReadOnlyList<KoProgress> Events
    {
        get
        {
            lock (_events)
            {
                return _events.ToList();
            }
        }
    }

    public void Report(KoProgress value)
    {
        lock (_events)
        {
            _events.Add(value);
        }
    }
}

/// <summary><c>--local</c> loads into the real podman; progress of a push to the real docker-registry.</summary>
public sealed class LocalAndProgressTests : IClassFixture<RegistryFixture>, IDisposable
{
    private static readonly string Greeting = "Hello from a ko-built image!";

    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-local");
    private readonly string _src;

    public LocalAndProgressTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    /// <summary>The environment that makes the engine's podman use the same storage as <see cref="Tools.PodmanAsync"/>.</summary>
    private Dictionary<string, string?> LocalEnv(IReadOnlyDictionary<string, string?>? extra = null)
    {
        Tools.Require("podman");
        Tools.Require("runc");
        var storage = _dir.Combine("podman");
        var runRoot = Path.Combine("/tmp", "kp-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(storage)))[..10]);
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
        {
            ["CONTAINERS_CONF"] = Path.Combine(Repo.Root, "tests", "containers.conf"),
            [DaemonPublisher.PodmanArgsVariable] = $"--runtime runc --storage-driver vfs --root {Path.Combine(storage, "root")} --runroot {runRoot}",
        });
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>())
        {
            env[k] = v;
        }

        return env;
    }

    [Fact]
    public async Task Local_loads_the_host_image_into_podman_with_ko_tags_and_it_runs()
    {
        var run = await Repo.KoAsync(LocalEnv(), "build", "-C", _src, "--local", "--platform", "linux/amd64,linux/arm64", "-t", "latest,v1", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        var name = $"ko.local/hello-{Naming.Md5Hex("example.com/hello")}";
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(name)}:[0-9a-f]{{64}}$", reference);
        Assert.Contains("Using podman", run.Stderr);
        Assert.Contains("loading the linux/amd64 image", run.Stderr);

        var images = await Tools.PodmanAsync(_dir.Combine("podman"), ["images", "--format", "{{.Repository}}:{{.Tag}}"]);
        var listed = images.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        Assert.Contains(reference, listed);
        Assert.Contains($"{name}:latest", listed);
        Assert.Contains($"{name}:v1", listed);

        var byReference = await Tools.PodmanRunAsync(_dir.Combine("podman"), reference);
        Assert.Contains(Greeting, byReference.StandardOutput);
        var byTag = await Tools.PodmanRunAsync(_dir.Combine("podman"), $"{name}:v1");
        Assert.Contains(Greeting, byTag.StandardOutput);

        // The loaded image is the linux/amd64 child of the index: its manifest digest is the printed hex.
        var layout = _dir.Combine("layout");
        var again = await Repo.KoAsync(LocalEnv(), "build", "-C", _src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--oci-layout-path", layout, ".");
        Assert.True(again.ExitCode == 0, again.ToString());
        var indexDigest = again.References[0][(again.References[0].IndexOf('@') + 1)..];
        using var index = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(layout, "blobs", "sha256", indexDigest["sha256:".Length..])));
        var amd64 = index.RootElement.GetProperty("manifests").EnumerateArray()
            .Single(m => m.GetProperty("platform").GetProperty("architecture").GetString() == "amd64")
            .GetProperty("digest").GetString();
        Assert.Equal("sha256:" + reference[(reference.LastIndexOf(':') + 1)..], amd64);
    }

    [Fact]
    public async Task A_ko_local_repository_loads_instead_of_pushing()
    {
        var result = await new KoEngine().BuildAsync(new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = _src,
            Platforms = ["linux/amd64"],
            Naming = NamingStrategy.BaseImportPath,
            Environment = LocalEnv(new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = "ko.local/team" }),
        });
        var image = Assert.Single(result.Images);
        Assert.Equal($"ko.local/team/hello:{image.Digest.Hex}", image.Reference);
        Assert.Equal(0, result.Statistics.BlobsUploaded);
        var run = await Tools.PodmanRunAsync(_dir.Combine("podman"), "ko.local/team/hello:latest");
        Assert.Contains(Greeting, run.StandardOutput);
    }

    [Fact]
    public async Task Local_bare_with_KO_DOCKER_REPO_loads_the_repository_name_as_ko_does()
    {
        // ko pkg/commands/resolver.go: with --local the daemon's local domain is KO_DOCKER_REPO when set, and
        // pkg/publish/daemon.go tags namer(domain, path):<hex>; --bare's namer is the domain itself.
        var run = await Repo.KoAsync(LocalEnv(new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = "registry.test/team" }), "build", "-C", _src, "--local", "--bare", "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 0, run.ToString());
        var reference = Assert.Single(run.References);
        Assert.Matches("^registry\\.test/team:[0-9a-f]{64}$", reference);
        var byTag = await Tools.PodmanRunAsync(_dir.Combine("podman"), "registry.test/team:latest");
        Assert.Contains(Greeting, byTag.StandardOutput);
    }

    [Fact]
    public async Task A_failing_podman_load_is_KO3005_with_podmans_error()
    {
        var env = LocalEnv(new Dictionary<string, string?> { [DaemonPublisher.PodmanArgsVariable] = "--no-such-podman-flag" });
        var run = await Repo.KoAsync(env, "build", "-C", _src, "-L", "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3005", run.Stderr);
        Assert.Contains("podman load failed", run.Stderr);
        Assert.Contains("no-such-podman-flag", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
    }

    [Fact]
    public async Task Without_docker_or_podman_on_the_PATH_local_is_KO3005()
    {
        var emptyBin = _dir.Combine("empty-bin");
        Directory.CreateDirectory(emptyBin);
        var env = LocalEnv(new Dictionary<string, string?> { ["PATH"] = emptyBin, ["KO_GO_PATH"] = Tools.Require("go") });
        var run = await Repo.KoAsync(env, "build", "-C", _src, "--local", "--platform", "linux/amd64", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3005", run.Stderr);
        Assert.Contains("docker is not on the PATH and podman is not on the PATH", run.Stderr);
    }

    [Fact]
    public async Task A_push_reports_bytes_for_every_uploaded_blob_ending_at_its_size()
    {
        var progress = new RecordingProgress();
        var repository = $"{_registry.Host}/progress";
        var result = await new KoEngine(progress: progress).BuildAsync(new KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = _src,
            Platforms = ["linux/amd64"],
            Environment = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = repository }),

            // The image's own blobs are what this test follows; an SBOM artifact would add blobs of its own.
            Sbom = Ko.Engine.Sbom.SbomFormat.None,
        });
        var image = Assert.Single(result.Images);

        // Every blob of the pushed manifest went up (the repository was empty): config and each layer.
        var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", $"docker://{image.Name}@{image.Digest}"]);
        using var manifest = JsonDocument.Parse(raw.StandardOutput);
        var blobs = manifest.RootElement.GetProperty("layers").EnumerateArray().Append(manifest.RootElement.GetProperty("config"))
            .ToDictionary(d => d.GetProperty("digest").GetString()!, d => d.GetProperty("size").GetInt64());
        Assert.Equal(blobs.Count, result.Statistics.BlobsUploaded);

        var events = progress.Events;
        var uploads = events.Where(e => e.Stage == "upload").GroupBy(e => e.Subject).ToDictionary(g => g.Key, g => g.ToList());
        Assert.Equal(blobs.Keys.Order(StringComparer.Ordinal), uploads.Keys.Order(StringComparer.Ordinal));
        foreach (var (digest, size) in blobs)
        {
            var reports = uploads[digest];
            Assert.All(reports, r => Assert.Equal(size, r.Total));
            Assert.Equal(0, reports[0].Completed);
            Assert.Equal(size, reports[^1].Completed);
            Assert.True(reports.Zip(reports.Skip(1)).All(p => p.First.Completed <= p.Second.Completed), string.Join(",", reports.Select(r => r.Completed)));
        }

        // Builds, layers and the pushed image are reported too, the image after its blobs.
        Assert.Contains(events, e => e.Stage == "build" && e.Completed == 1);
        Assert.Equal(2, events.Count(e => e.Stage == "layer"));
        var pushed = Assert.Single(events, e => e.Stage == "push");
        Assert.Equal(image.Name, pushed.Subject);
        Assert.True(events.ToList().IndexOf(pushed) > events.ToList().FindLastIndex(e => e.Stage == "upload"));
    }

    [Fact]
    public async Task The_cli_keeps_progress_off_stdout_and_logs_uploads_with_verbose()
    {
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_DOCKER_REPO"] = $"{_registry.Host}/cli-progress" });
        var verbose = await Repo.KoAsync(env, "build", "-v", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(verbose.ExitCode == 0, verbose.ToString());
        var reference = Assert.Single(verbose.References);
        Assert.Equal(reference + "\n", verbose.Stdout.Replace("\r\n", "\n"));
        var uploadedLines = verbose.Stderr.Split('\n').Where(l => l.StartsWith("uploaded sha256:", StringComparison.Ordinal)).ToList();
        Assert.True(uploadedLines.Count >= 3, verbose.Stderr);
        Assert.All(uploadedLines, l => Assert.Matches(@"^uploaded sha256:[0-9a-f]{64} \(\d+ bytes in \d+ ms\)$", l.TrimEnd('\r')));
        Assert.Contains("Sent ", verbose.Stderr);

        // Without -v: one summary for the image, no line per blob; an unchanged push sends nothing.
        var quiet = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", ".");
        Assert.True(quiet.ExitCode == 0, quiet.ToString());
        Assert.Equal(reference + "\n", quiet.Stdout.Replace("\r\n", "\n"));
        Assert.DoesNotContain("uploaded sha256:", quiet.Stderr);
        Assert.Contains("Sent 0 B in 0 blob upload(s)", quiet.Stderr);
    }
}

/// <summary>The CLI's progress display, driven directly: plain lines off a terminal, Spectre bars on one.</summary>
public sealed class ProgressDisplayTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Fact]
    public async Task Off_a_terminal_the_display_writes_whole_lines_per_blob_with_verbose_and_a_summary_per_image()
    {
        var error = new StringWriter();
        var display = Ko.Cli.ProgressDisplay.Create(error, verbose: true, new Dictionary<string, string?>());
        Assert.IsType<Ko.Cli.ProgressDisplay.Plain>(display);
        var result = await display.RunAsync(() =>
        {
            display.Report(new KoProgress("upload", Digest, 0, 3000));
            display.Report(new KoProgress("upload", Digest, 1000, 3000));
            display.Report(new KoProgress("upload", Digest, 3000, 3000));
            display.Report(new KoProgress("push", "127.0.0.1:5000/team/app", 1, 1));
            display.Report(new KoProgress("push", "127.0.0.1:5000/team/other", 3, 3));
            return Task.FromResult(42);
        });
        Assert.Equal(42, result);
        var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(3, lines.Count);
        Assert.Matches($@"^uploaded {Digest} \(3000 bytes in \d+ ms\)$", lines[0]);
        Assert.Matches(@"^Sent 2\.9 KiB in 1 blob upload\(s\) for 127\.0\.0\.1:5000/team/app \(\d+\.\d\d s\)$", lines[1]);
        Assert.Matches(@"^Sent 0 B in 0 blob upload\(s\) for 127\.0\.0\.1:5000/team/other and its 2 SBOM artifact\(s\) \(\d+\.\d\d s\)$", lines[2]);
    }

    [Fact]
    public async Task On_a_terminal_the_display_draws_a_bar_per_subject_and_prints_logs_above_it()
    {
        var error = new StringWriter();
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings
        {
            Ansi = Spectre.Console.AnsiSupport.Yes,
            Interactive = Spectre.Console.InteractionSupport.Yes,
            ColorSystem = Spectre.Console.ColorSystemSupport.NoColors,
            Out = new Spectre.Console.AnsiConsoleOutput(error),
        });
        var display = new Ko.Cli.ProgressDisplay.Bars(error, verbose: false, console);
        await display.RunAsync(async () =>
        {
            display.Report(new KoProgress("build", "./cmd/[app] linux/amd64", 1, 1));
            display.Report(new KoProgress("upload", Digest, 0, 2048));
            display.Logger.LogInformation("a log line with [brackets]");
            await Task.Delay(150);
            display.Report(new KoProgress("upload", Digest, 2048, 2048));
            return 0;
        });
        var text = error.ToString();
        Assert.Contains("build ./cmd/[app] linux/amd64", text);
        Assert.Contains("upload sha256:0123456789ab… (2.0 KiB)", text);
        Assert.Contains("100%", text);
        Assert.Contains("a log line with [brackets]", text);
    }
}
