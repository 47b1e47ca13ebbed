using System.Diagnostics;
using Ko.Engine.Registry.Credentials;
using Ko.Engine.Tools;
using Ko.Engine.Util;

namespace Ko.Engine.Tests;

/// <summary>The one runner for external programs, with /bin/sh as the program, and the names config.json may give to run.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class ExternalProgramTests : IDisposable
{
    private readonly TempDir _dir = new("ko-program");

    public void Dispose() => _dir.Dispose();

    private static ProgramStart Sh(string script, IReadOnlyDictionary<string, string?>? env = null) =>
        new("sh", "/bin/sh", ["-c", script], env ?? new Dictionary<string, string?>(), KoErrorCodes.GoNotFound, "Install sh.");

    private string Executable(string relative, string content)
    {
        var path = _dir.WriteFile(relative, content);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    [Fact]
    public async Task Output_error_exit_code_and_input_come_back()
    {
        var result = await ExternalProgram.RunAsync(Sh("read line; echo \"out $line\"; echo err >&2; exit 3") with { StandardInput = "hello\n" }, CancellationToken.None);
        Assert.Equal(3, result.ExitCode);
        Assert.Equal("out hello\n", result.StandardOutput);
        Assert.Equal("err\n", result.StandardError);
    }

    [Fact]
    public async Task Endless_output_stops_the_program_with_a_sentence_and_endless_errors_are_cut()
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => ExternalProgram.RunAsync(Sh("yes") with { MaxOutputBytes = 1 << 20 }, CancellationToken.None));
        Assert.Equal(KoErrorCodes.ProgramOutputTooLarge, ex.Code);
        Assert.Contains("more than 1 MiB", ex.Message);

        var result = await ExternalProgram.RunAsync(Sh("head -c 3000000 /dev/zero | tr '\\0' e >&2; echo done") with { MaxErrorBytes = 1000 }, CancellationToken.None);
        Assert.Equal("done\n", result.StandardOutput);
        Assert.StartsWith(new string('e', 1000), result.StandardError);
        Assert.Contains("dropped", result.StandardError);
    }

    [Fact]
    public async Task A_start_failure_is_reported_by_its_cause()
    {
        var missing = await Assert.ThrowsAsync<KoException>(() => ExternalProgram.RunAsync(Sh("true") with { Path = _dir.Combine("nope") }, CancellationToken.None));
        Assert.Equal(KoErrorCodes.GoNotFound, missing.Code);
        Assert.Contains("No such file or directory", missing.Message);
        Assert.Contains("Install sh.", missing.Message);

        var tooBig = await Assert.ThrowsAsync<KoException>(() => ExternalProgram.RunAsync(Sh("true", new Dictionary<string, string?> { ["BIG"] = new string('s', 200_000) }), CancellationToken.None));
        Assert.Equal(KoErrorCodes.CommandLineTooLong, tooBig.Code);
        Assert.Contains("variable BIG (200000 bytes)", tooBig.Message);
        Assert.DoesNotContain("sssss", tooBig.Message);

        var manyArgs = Enumerable.Range(0, 200_000).Select(i => "example.com/app/cmd/" + i).ToList();
        var tooMany = await Assert.ThrowsAsync<KoException>(() => ExternalProgram.RunAsync(Sh("true") with { Arguments = ["-c", "true", .. manyArgs] }, CancellationToken.None));
        Assert.Equal(KoErrorCodes.CommandLineTooLong, tooMany.Code);
        Assert.Contains("200002 argument(s)", tooMany.Message);
        Assert.Contains("fewer import paths", tooMany.Message);

        var noDir = await Assert.ThrowsAsync<KoException>(() => ExternalProgram.RunAsync(Sh("true") with { WorkingDirectory = _dir.Combine("no-dir") }, CancellationToken.None));
        Assert.Contains("working directory", noDir.Message);
    }

    [Fact]
    public async Task Cancellation_kills_the_whole_tree_before_returning()
    {
        var pidFile = _dir.Combine("sleep.pid");
        using var cts = new CancellationTokenSource();
        var run = ExternalProgram.RunAsync(Sh($"sleep 300 & echo $! > '{pidFile}'; wait"), cts.Token);
        var clock = Stopwatch.StartNew();
        while (!File.Exists(pidFile) || new FileInfo(pidFile).Length == 0)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
            await Task.Delay(20);
        }

        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Running(pid), $"sleep {pid} outlived the cancelled run");
    }

    [Theory]
    [InlineData("../../evil/run")]
    [InlineData("/../../evil/run")]
    [InlineData("x/../../../evil/run")]
    [InlineData("..")]
    [InlineData("-h")]
    [InlineData("pass\nword")]
    public async Task A_credential_helper_name_that_is_a_path_is_refused_and_nothing_runs(string name)
    {
        var marker = _dir.Combine("marker");
        Directory.CreateDirectory(_dir.Combine("bin", "docker-credential-x"));
        Directory.CreateDirectory(_dir.Combine("bin", "docker-credential-"));
        Executable("evil/run", $"#!/bin/sh\necho ran > '{marker}'\n");
        Executable("bin/docker-credential-..", $"#!/bin/sh\necho ran > '{marker}'\n");
        _dir.WriteFile("docker/config.json", $$"""{ "credsStore": {{System.Text.Json.JsonSerializer.Serialize(name)}} }""");
        var creds = new DockerCredentials(new Dictionary<string, string?> { ["DOCKER_CONFIG"] = _dir.Combine("docker"), ["PATH"] = _dir.Combine("bin") });
        var ex = await Assert.ThrowsAsync<KoException>(async () => await creds.GetAsync("a.example", default));
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("not a credential helper name", ex.Message);
        Assert.False(File.Exists(marker), $"credsStore '{name}' ran a program outside docker-credential-NAME on PATH");
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("\"secret\"")]
    [InlineData("42")]
    [InlineData("null")]
    public async Task A_credential_helper_answering_json_that_is_not_an_object_is_a_sentence(string answer)
    {
        Executable("bin/docker-credential-odd", $"#!/bin/sh\ncat >/dev/null\necho '{answer}'\n");
        _dir.WriteFile("docker/config.json", """{ "credsStore": "odd" }""");
        var creds = new DockerCredentials(new Dictionary<string, string?> { ["DOCKER_CONFIG"] = _dir.Combine("docker"), ["PATH"] = _dir.Combine("bin") + ":/usr/bin:/bin" });
        var ex = await Assert.ThrowsAsync<KoException>(async () => await creds.GetAsync("a.example", default));
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("docker-credential-odd", ex.Message);
    }

    [Fact]
    public void Helper_names_docker_uses_are_accepted()
    {
        foreach (var name in new[] { "desktop", "osxkeychain", "ecr-login", "gcloud", "pass", "secretservice", "acr-env", "my_helper.v2" })
        {
            Assert.Null(CredentialHelper.Locate(name, new Dictionary<string, string?> { ["PATH"] = _dir.Path }));
        }
    }

    private static bool Running(int pid)
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
}

/// <summary>go's own output is read as data too: a fake go (a shell script) that answers with the wrong JSON gets a sentence, not a crash.</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GoOutputTests : IDisposable
{
    private readonly TempDir _dir = new("ko-fakego");

    public void Dispose() => _dir.Dispose();

    private Go.GoTool FakeGo(string stdout)
    {
        _dir.WriteFile("out.txt", stdout);
        var path = _dir.WriteFile("go", $"#!/bin/sh\ncat '{_dir.Combine("out.txt")}'\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return new Go.GoTool(path, new Dictionary<string, string?> { ["PATH"] = "/usr/bin:/bin" }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("{\"ImportPath\": 5, \"Error\": \"not an object\"}")]
    [InlineData("{\"ImportPath\": \"a\", \"Error\": {\"Err\": 7}}")]
    [InlineData("{\"ImportPath\": \"a\"")]
    [InlineData("not json")]
    public async Task Go_list_output_of_the_wrong_shape_is_a_sentence(string output)
    {
        var ex = await Record.ExceptionAsync(() => FakeGo(output).ListAsync(_dir.Path, ["./x"], CancellationToken.None));
        if (ex is not null)
        {
            Assert.IsType<KoException>(ex);
        }
    }

    [Theory]
    [InlineData("[1,2]")]
    [InlineData("\"text\"")]
    [InlineData("not json")]
    [InlineData("{\"GOOS\": ")]
    public async Task Go_env_output_of_the_wrong_shape_is_a_sentence(string output)
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => FakeGo(output).EnvAsync(_dir.Path, CancellationToken.None));
        Assert.Contains("go env -json", ex.Message);
    }

    [Fact]
    public async Task Go_env_with_good_output_is_read()
    {
        var env = await FakeGo("{\"GOOS\": \"linux\", \"N\": 3}").EnvAsync(_dir.Path, CancellationToken.None);
        Assert.Equal("linux", env["GOOS"]);
        Assert.Equal("3", env["N"]);
    }
}

/// <summary>The Go build ID note is read from binaries in the cache: a malformed note gives no ID, never an exception.</summary>
public sealed class BuildIdNoteTests
{
    private static byte[] Note(uint nameSize, uint descSize, uint type, string name, string desc, bool little = true)
    {
        var bytes = new List<byte>();
        foreach (var v in new[] { nameSize, descSize, type })
        {
            var b = BitConverter.GetBytes(v);
            if (!little)
            {
                Array.Reverse(b);
            }

            bytes.AddRange(b);
        }

        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(name));
        bytes.AddRange(System.Text.Encoding.ASCII.GetBytes(desc));
        return [.. bytes];
    }

    [Fact]
    public void A_note_in_either_byte_order_gives_the_id()
    {
        Assert.Equal("abc/def", Go.BuildInfoReader.DecodeBuildIdNote(Note(4, 7, 4, "Go\0\0", "abc/def")));
        Assert.Equal("abc/def", Go.BuildInfoReader.DecodeBuildIdNote(Note(4, 7, 4, "Go\0\0", "abc/def", little: false)));
    }

    [Theory]
    [InlineData(4u, 70u, "Go\0\0", "short")]
    [InlineData(4u, 0u, "Go\0\0", "")]
    [InlineData(4u, 0xffffffffu, "Go\0\0", "x")]
    [InlineData(4u, 3u, "GNU\0", "abc")]
    public void A_malformed_note_gives_no_id(uint nameSize, uint descSize, string name, string desc)
    {
        Assert.Null(Go.BuildInfoReader.DecodeBuildIdNote(Note(nameSize, descSize, 4, name, desc)));
        Assert.Null(Go.BuildInfoReader.DecodeBuildIdNote([1, 2, 3]));
        Assert.Null(Go.BuildInfoReader.DecodeBuildIdNote([]));
    }
}

/// <summary>The record of running children lives in the cache, which other tools and runs may have touched.</summary>
public sealed class ChildRegistryTests : IDisposable
{
    private readonly TempDir _dir = new("ko-registry");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Garbage_and_dead_runs_are_handled_without_killing_anything_alive()
    {
        var running = _dir.Combine("running");
        Directory.CreateDirectory(Path.Combine(running, "garbage"));
        Directory.CreateDirectory(Path.Combine(running, "-1-x"));
        _dir.WriteFile("running/not-a-dir", "x");
        // A dead run (pid 2^22-1 is above Linux's pid limit) that recorded this very test process as its child:
        // the identity differs (no such start time), so nothing is killed, and the run's directory is removed.
        var scope = ChildRegistry.Identity(Environment.ProcessId)!.Split('-', 3)[2];
        var dead = Path.Combine(running, $"4194303-1-{scope}");
        Directory.CreateDirectory(dead);
        File.WriteAllBytes(Path.Combine(dead, $"{Environment.ProcessId}-1-{scope}"), []);
        // A run in another PID namespace (a container sharing the cache) cannot be judged from here: it stays.
        var foreign = Path.Combine(running, "4194303-1-0-1");
        Directory.CreateDirectory(foreign);
        ChildRegistry.Sweep(running, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        Assert.False(Directory.Exists(dead));
        Assert.True(Directory.Exists(foreign));
        Assert.True(Directory.Exists(Path.Combine(running, "garbage")));

        // A live run's own directory stays; its child entry goes when the child is done.
        var registry = ChildRegistry.Open(running, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        using (var child = Process.Start(new ProcessStartInfo("/bin/sleep", "5"))!)
        {
            var entry = registry.Register(ChildRegistry.Identity(child.Id));
            var own = Path.Combine(running, ChildRegistry.Identity(Environment.ProcessId)!);
            Assert.Single(Directory.GetFiles(own));
            ChildRegistry.Sweep(running, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
            Assert.False(child.HasExited, "a live run's child was killed");
            entry.Dispose();
            Assert.Empty(Directory.GetFiles(own));
            child.Kill();
        }
    }
}

/// <summary>The stamp beside a cached go binary is read from the cache: anything unexpected there means "no stamp".</summary>
public sealed class GoBinaryStampTests : IDisposable
{
    private readonly TempDir _dir = new("ko-stamp");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_stamp_round_trips_and_a_bad_one_reads_as_none()
    {
        var binary = _dir.WriteFile("app", "bin");
        var stamp = new Go.GoBinaryStamp("aa/bb", "hello\n0\n", "sha256:" + new string('0', 64));
        Go.GoBinaryStamp.Write(binary, stamp);
        Assert.Equal(stamp, Go.GoBinaryStamp.Read(binary));

        foreach (var bad in new[] { string.Empty, "garbage", "ko-go-binary-stamp-v2\nonly", new string('x', 100_000), "ko-go-binary-stamp-v1\n1\n2\nx\ny\n" })
        {
            File.WriteAllText(Go.GoBinaryStamp.PathOf(binary), bad);
            Assert.Null(Go.GoBinaryStamp.Read(binary));
        }

        File.Delete(Go.GoBinaryStamp.PathOf(binary));
        Directory.CreateDirectory(Go.GoBinaryStamp.PathOf(binary));
        Assert.Null(Go.GoBinaryStamp.Read(binary));
        Go.GoBinaryStamp.Write(binary, stamp); // cannot replace a directory: no exception, no stamp
        Assert.Null(Go.GoBinaryStamp.Read(binary));
        Assert.Single(Directory.GetFiles(_dir.Path)); // no temporary left beside it
    }
}
