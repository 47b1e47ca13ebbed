using System.Diagnostics;
using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The programs the engine starts: a start failure is reported by its cause (E2BIG is not "install Go"), and a
/// cancelled build leaves no process of go's tree behind (go's compile and link children included).
/// </summary>
public sealed class ChildProcessTests : IDisposable
{
    private readonly TempDir _dir = new("ko-child");
    private readonly string _src;

    public ChildProcessTests() => _src = Repo.CopyHello(_dir.Combine("hello"));

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options(IReadOnlyDictionary<string, string?> extra) => new()
    {
        ImportPaths = ["."],
        WorkingDirectory = _src,
        Push = false,
        Platforms = ["linux/amd64"],
        Environment = Repo.Environment(_dir.Combine("cache"), extra),
    };

    [Fact]
    public async Task An_environment_too_large_to_start_go_is_reported_as_such_not_as_a_missing_go()
    {
        // Linux refuses any single argument or variable over 128 KiB with E2BIG.
        var ex = await Assert.ThrowsAsync<KoException>(() => new KoEngine().BuildAsync(Options(new Dictionary<string, string?> { ["KO_TEST_HUGE"] = new string('x', 200_000) })));
        Assert.Equal(KoErrorCodes.CommandLineTooLong, ex.Code);
        Assert.Contains("too large", ex.Message);
        Assert.Contains("KO_TEST_HUGE", ex.Message); // the largest variable is named (never its value)
        Assert.DoesNotContain("xxxxxxxx", ex.Message);
        Assert.DoesNotContain("Install Go", ex.Message);

        var run = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_TEST_HUGE"] = new string('x', 200_000) }), "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64");
        Assert.Equal(1, run.ExitCode);
        Assert.Contains("KO2007", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
    }

    [Fact]
    public async Task A_go_that_cannot_be_executed_is_still_reported_as_a_missing_go()
    {
        var notExecutable = _dir.WriteFile("go-not-executable", "#!/bin/sh\nexit 0\n");
        var missing = await Assert.ThrowsAsync<KoException>(() => new KoEngine().BuildAsync(Options(new Dictionary<string, string?> { ["KO_GO_PATH"] = _dir.Combine("no-such-go") })));
        Assert.Equal(KoErrorCodes.GoNotFound, missing.Code);
        Assert.Contains("no-such-go", missing.Message);
        var denied = await Assert.ThrowsAsync<KoException>(() => new KoEngine().BuildAsync(Options(new Dictionary<string, string?> { ["KO_GO_PATH"] = notExecutable })));
        Assert.Equal(KoErrorCodes.GoNotFound, denied.Code);
        Assert.Contains("go-not-executable", denied.Message);
    }

    [Fact]
    public async Task Cancelling_a_build_kills_every_process_go_started_before_it_returns()
    {
        // A stand-in for go whose work is done by a grandchild, as go build's compile and link steps are.
        var pids = Directory.CreateDirectory(_dir.Combine("pids")).FullName;
        var fakeGo = _dir.WriteFile("fake-go", $"#!/bin/sh\necho $$ > \"{pids}/$$.sh\"\nsleep 300 &\necho $! > \"{pids}/$$.sleep\"\nwait\n");
        File.SetUnixFileMode(fakeGo, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        using var cts = new CancellationTokenSource();
        var build = new KoEngine().BuildAsync(Options(new Dictionary<string, string?> { ["KO_GO_PATH"] = fakeGo }), cts.Token);
        var started = Stopwatch.StartNew();
        while (Directory.GetFiles(pids, "*.sleep").Length == 0 || Directory.GetFiles(pids, "*.sleep").Any(f => new FileInfo(f).Length == 0))
        {
            Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), "the fake go never started its grandchild");
            Assert.False(build.IsCompleted, "the build ended before it was cancelled: " + build.Exception);
            await Task.Delay(50);
        }

        await Task.Delay(300); // let the other go invocation (go list next to go build) start its own grandchild
        await cts.CancelAsync();
        var returned = await Task.WhenAny(build, Task.Delay(TimeSpan.FromSeconds(30)));
        Assert.Same(build, returned);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => build);

        // Checked at once, without waiting: the method must not return while any of them still runs.
        var tree = Directory.GetFiles(pids).Select(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.NotEmpty(tree);
        var alive = tree.Where(IsRunning).ToList();
        try
        {
            Assert.True(alive.Count == 0, $"still running after the build returned: {string.Join(", ", alive.Select(Describe))}");
        }
        finally
        {
            foreach (var pid in alive)
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }

    [Fact]
    public async Task A_go_left_running_by_a_killed_run_is_stopped_by_the_next_run()
    {
        var pids = Directory.CreateDirectory(_dir.Combine("pids")).FullName;
        var fakeGo = _dir.WriteFile("fake-go", $"#!/bin/sh\necho $$ > \"{pids}/$$.sh\"\nsleep 300 &\necho $! > \"{pids}/$$.sleep\"\nwait\n");
        File.SetUnixFileMode(fakeGo, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        // dotnet ko in its own process, killed with SIGKILL while its go runs: it cannot stop its children.
        var info = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, "Ko.Cli")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64" })
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment.Clear();
        foreach (var (k, v) in Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_GO_PATH"] = fakeGo }))
        {
            info.Environment[k] = v;
        }

        var orphans = new List<int>();
        try
        {
            using (var ko = Process.Start(info)!)
            {
                // Killed once every go it started (list and build) is running and recorded, and nothing new started
                // for half a second (a go started in the instant before the kill is the documented residual risk).
                var clock = Stopwatch.StartNew();
                var stableSince = TimeSpan.MaxValue;
                var last = -1;
                while (true)
                {
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the fake go never started: " + (ko.HasExited ? await ko.StandardError.ReadToEndAsync() : "still running"));
                    var started = Directory.GetFiles(pids, "*.sleep").Count(f => new FileInfo(f).Length > 0);
                    var running = Path.Combine(_dir.Combine("cache"), "go", "running");
                    var recorded = Directory.Exists(running) ? Directory.GetFiles(running, "*", SearchOption.AllDirectories).Length : 0;
                    var settled = started > 0 && started == recorded;
                    if (!settled || started != last)
                    {
                        stableSince = settled ? clock.Elapsed : TimeSpan.MaxValue;
                        last = started;
                    }
                    else if (clock.Elapsed - stableSince > TimeSpan.FromMilliseconds(500))
                    {
                        break;
                    }

                    await Task.Delay(50);
                }

                ko.Kill(entireProcessTree: false);
                await ko.WaitForExitAsync();
            }

            orphans.AddRange(Directory.GetFiles(pids).Select(f => int.Parse(File.ReadAllText(f).Trim(), System.Globalization.CultureInfo.InvariantCulture)));
            Assert.Contains(orphans, IsRunning); // what SIGKILL leaves: go (here its stand-in) keeps running

            // The next run, with the real go and the same cache, stops them before it builds.
            var next = await new KoEngine().BuildAsync(Options(new Dictionary<string, string?>()));
            Assert.Single(next.Images);
            var clockAfter = Stopwatch.StartNew();
            while (orphans.Any(IsRunning) && clockAfter.Elapsed < TimeSpan.FromSeconds(5))
            {
                await Task.Delay(50); // SIGKILL is delivered asynchronously
            }

            Assert.True(!orphans.Any(IsRunning), $"still running after the next run: {string.Join(", ", orphans.Where(IsRunning).Select(Describe))}");
            Assert.DoesNotContain(Directory.GetDirectories(_dir.Combine("cache", "go", "running")), d => !Path.GetFileName(d).StartsWith(Environment.ProcessId + "-", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var pid in orphans.Where(IsRunning))
            {
                try
                {
                    Process.GetProcessById(pid).Kill();
                }
                catch (ArgumentException)
                {
                }
            }
        }
    }

    /// <summary>True when the process exists and is not a zombie (a zombie has ended; only its exit status remains).</summary>
    internal static bool IsRunning(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..][0] != 'Z';
        }
        catch (IOException)
        {
            return false;
        }
    }

    private static string Describe(int pid)
    {
        try
        {
            return $"{pid} ({File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Trim()})";
        }
        catch (IOException)
        {
            return pid.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
