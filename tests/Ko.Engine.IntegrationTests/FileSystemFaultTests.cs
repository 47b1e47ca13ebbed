using System.Diagnostics;
using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Files on disk that are broken, full, read-only, shared or left over: each is a clear <c>Error: KOnnnn</c>, never a
/// stack trace, a hang or a silently wrong output. The full and read-only disks are real (a tmpfs and a read-only bind
/// mount: these tests run as root, as the sandbox does, and say so when they cannot mount).
/// </summary>
public sealed class FileSystemFaultTests : IDisposable
{
    private readonly TempDir _dir = new("ko-fs");
    private readonly string _src;
    private readonly List<string> _mounts = [];

    public FileSystemFaultTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose()
    {
        foreach (var mount in Enumerable.Reverse(_mounts))
        {
            Run("umount", "-l", mount);
        }

        _dir.Dispose();
    }

    private static Repo.KoRun Fails(Repo.KoRun run, string code)
    {
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.StartsWith($"Error: {code}: ", run.Stderr.Split('\n').First(l => l.StartsWith("Error: ", StringComparison.Ordinal)));
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal(string.Empty, run.Stdout);
        return run;
    }

    private static Task<Repo.KoRun> BuildAsync(IReadOnlyDictionary<string, string?> env, string src, params string[] more) =>
        Repo.KoAsync(env, ["build", ".", "-C", src, "--push=false", "--platform", "linux/amd64", .. more]);

    private static string Run(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var p = Process.Start(start)!;
        var err = p.StandardError.ReadToEndAsync();
        var output = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(30_000), $"{program} did not finish");
        return p.ExitCode == 0 ? output : $"exit {p.ExitCode}: {err.Result}";
    }

    private void Mount(params string[] args)
    {
        var target = args[^1];
        var result = Run("mount", args);
        Assert.False(result.StartsWith("exit ", StringComparison.Ordinal), $"this test needs root to mount ({string.Join(' ', args)}): {result}");
        _mounts.Add(target);
    }

    [Fact]
    public async Task A_full_disk_under_the_cache_is_ko3010_naming_the_file()
    {
        var cache = _dir.Combine("small-cache");
        Directory.CreateDirectory(cache);
        Mount("-t", "tmpfs", "-o", "size=48m", "tmpfs", cache);
        var env = Repo.Environment(cache);
        var first = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("first"));
        Assert.True(first.ExitCode == 0, first.ToString());

        // Fill the disk, then change kodata: the binary is reused, the new kodata layer has nowhere to go.
        await using (var filler = new FileStream(Path.Combine(cache, "filler"), FileMode.CreateNew, FileAccess.Write))
        {
            var chunk = new byte[1 << 20];
            try
            {
                while (true)
                {
                    filler.Write(chunk);
                    filler.Flush();
                }
            }
            catch (IOException)
            {
                // Full.
            }
        }

        File.WriteAllBytes(Path.Combine(_src, "kodata", "big.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(512 * 1024));
        var run = Fails(await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("second")), "KO3010");

        Assert.Contains("No space left on device", run.Stderr);
        Assert.Contains(cache, run.Stderr);
        Assert.Contains("KOCACHE", run.Stderr);
        Assert.Empty(Directory.GetFiles(Path.Combine(cache, "tmp")));
        Assert.False(Directory.Exists(_dir.Combine("second")));
    }

    [Fact]
    public async Task A_read_only_cache_serves_hits_and_a_needed_write_is_ko3010()
    {
        var cache = _dir.Combine("ro-cache");
        Directory.CreateDirectory(cache);
        var env = Repo.Environment(cache);
        var warm = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("warm"));
        Assert.True(warm.ExitCode == 0, warm.ToString());
        Mount("--bind", "-o", "ro", cache, cache);

        // Everything cached: a read-only cache (a shared, pre-filled one) still works.
        var hits = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("hits"));
        Assert.True(hits.ExitCode == 0, hits.ToString());

        // A changed kodata file needs a new layer in the cache.
        File.AppendAllText(Path.Combine(_src, "kodata", "greeting.txt"), "changed\n");
        var run = Fails(await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("out")), "KO3010");

        Assert.Contains("Read-only file system", run.Stderr);
        Assert.Contains(cache, run.Stderr);
        Assert.False(Directory.Exists(_dir.Combine("out")));
    }

    [Fact]
    public async Task A_cache_below_a_file_and_a_blob_path_that_is_a_directory_are_ko3010()
    {
        var file = _dir.WriteFile("a-file", "x");
        var below = Fails(await BuildAsync(Repo.Environment(Path.Combine(file, "cache")), _src, "--oci-layout-path", _dir.Combine("out")), "KO3010");
        Assert.Contains(file, below.Stderr);

        var cache = _dir.Combine("cache");
        var env = Repo.Environment(cache);
        var first = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("first"));
        Assert.True(first.ExitCode == 0, first.ToString());
        var blob = Directory.GetFiles(Path.Combine(cache, "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        File.Delete(blob);
        Directory.CreateDirectory(Path.Combine(blob, "junk"));

        var run = Fails(await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("second")), "KO3010");
        Assert.Contains(blob, run.Stderr);
        Assert.Contains("directory", run.Stderr);
    }

    [Fact]
    public async Task An_oci_base_whose_layer_does_not_match_its_digest_is_refused_with_ko3003()
    {
        var env = Repo.Environment(_dir.Combine("cache"));
        var baseLayout = _dir.Combine("base");
        var b = await BuildAsync(env, _src, "--base-image", "scratch", "--bare", "-t", "base", "--oci-layout-path", baseLayout);
        Assert.True(b.ExitCode == 0, b.ToString());

        // One byte flipped in the biggest layer (the binary), size unchanged.
        var blob = Directory.GetFiles(Path.Combine(baseLayout, "blobs", "sha256")).OrderByDescending(f => new FileInfo(f).Length).First();
        var bytes = File.ReadAllBytes(blob);
        bytes[bytes.Length / 2] ^= 0x01;
        File.WriteAllBytes(blob, bytes);

        var output = _dir.Combine("on-bad-base");
        var archive = _dir.Combine("on-bad-base.tar");
        var run = Fails(await BuildAsync(env, _src, "--base-image", $"oci:{baseLayout}:ko.local:base", "--oci-layout-path", output, "--tarball", archive), "KO3003");

        Assert.Contains(Path.GetFileName(blob), run.Stderr);
        Assert.Contains(baseLayout, run.Stderr);
        Assert.False(File.Exists(archive));

        // The app layer has the same digest as the corrupt base layer (same binary), and the layout takes it from the
        // cache, which noticed the write and made the layer again: the layout may be complete, but never with the
        // corrupt bytes. Each output is whole and right, or absent.
        if (Directory.Exists(output))
        {
            foreach (var file in Directory.GetFiles(Path.Combine(output, "blobs", "sha256")))
            {
                Assert.Equal(Path.GetFileName(file), Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(file))));
            }
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Concurrent_dotnet_ko_processes_with_different_tags_into_one_layout_all_land(bool existingLayout)
    {
        var cache = _dir.Combine("cache");
        var env = Repo.Environment(cache);
        var warm = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("warm"));
        Assert.True(warm.ExitCode == 0, warm.ToString());
        var tool = Path.Combine(AppContext.BaseDirectory, "Ko.Cli");
        for (var round = 0; round < 2; round++)
        {
            var layout = _dir.Combine($"shared-{round}");
            if (existingLayout)
            {
                var first = await BuildAsync(env, _src, "--oci-layout-path", layout, "-t", "first");
                Assert.True(first.ExitCode == 0, first.ToString());
            }

            var tags = Enumerable.Range(0, 6).Select(i => $"t{i}").ToList();
            var runs = await Task.WhenAll(tags.Select(tag => Tools.RunAsync(tool, ["build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64", "--oci-layout-path", layout, "-t", tag], env: env, check: false)));

            Assert.All(runs, r => Assert.True(r.ExitCode == 0, r.StandardError));
            using var index = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(layout, "index.json")));
            var names = index.RootElement.GetProperty("manifests").EnumerateArray()
                .Select(m => m.GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()!.Split(':')[^1])
                .Order(StringComparer.Ordinal).ToList();
            Assert.Equal(tags.Concat(existingLayout ? ["first"] : []).Order(StringComparer.Ordinal), names);
            await Tools.RunAsync("umoci", ["stat", "--image", $"{layout}:{index.RootElement.GetProperty("manifests")[0].GetProperty("annotations").GetProperty("org.opencontainers.image.ref.name").GetString()}"]);
        }

        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(_dir.Path), p => p.Contains(".tmp-", StringComparison.Ordinal) || p.EndsWith(".lock", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Temporaries_a_killed_run_left_are_removed_and_a_live_runs_are_kept()
    {
        var cache = _dir.Combine("cache");
        var env = Repo.Environment(cache);
        var warm = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("lay"));
        Assert.True(warm.ExitCode == 0, warm.ToString());

        var dead = DeadPid();
        var stale = new[]
        {
            Path.Combine(cache, "tmp", $"layer-{dead}-{Guid.NewGuid():N}"),
            _dir.Combine($".docker.tar.tmp-{dead}-{Guid.NewGuid():N}"),
            _dir.Combine($".lay.tmp-{dead}-{Guid.NewGuid():N}"),
        };
        File.WriteAllText(stale[0], "partial layer");
        File.WriteAllText(stale[1], "partial archive");
        Directory.CreateDirectory(Path.Combine(stale[2], "blobs", "sha256"));
        var live = _dir.Combine($".docker.tar.tmp-{dead}-{Guid.NewGuid():N}");
        await using var liveWriter = new FileStream(live, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        foreach (var p in stale.Append(live))
        {
            if (Directory.Exists(p))
            {
                Directory.SetLastWriteTimeUtc(p, DateTime.UtcNow.AddHours(-1));
            }
            else
            {
                File.SetLastWriteTimeUtc(p, DateTime.UtcNow.AddHours(-1));
            }
        }

        var run = await BuildAsync(env, _src, "--oci-layout-path", _dir.Combine("lay"), "--tarball", _dir.Combine("docker.tar"), "-t", "again");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.All(stale, p => Assert.False(Path.Exists(p), $"{p} should have been removed"));
        Assert.True(File.Exists(live), "a temp a live writer holds must be kept");
    }

    private static int DeadPid()
    {
        var pid = 4_000_000;
        while (Directory.Exists($"/proc/{pid}"))
        {
            pid++;
        }

        return pid;
    }
}
