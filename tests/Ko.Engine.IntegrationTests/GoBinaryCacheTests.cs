using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The go binary kept in the cache (so go can skip relinking) is reused only while its bytes are the ones go wrote:
/// go itself checks only the build ID, so a flipped byte elsewhere would otherwise ship, forever.
/// </summary>
public sealed class GoBinaryCacheTests : IDisposable
{
    private readonly TempDir _dir = new("ko-gobin");
    private readonly string _src;
    private readonly Dictionary<string, string?> _env;

    public GoBinaryCacheTests()
    {
        _src = Repo.CopyHello(_dir.Combine("hello"));
        _env = Repo.Environment(_dir.Combine("cache"));
    }

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options => new() { ImportPaths = ["."], WorkingDirectory = _src, Push = false, Platforms = ["linux/amd64"], Environment = _env };

    private string CachedBinary() => Assert.Single(Directory.GetFiles(_dir.Combine("cache", "go"), "app", SearchOption.AllDirectories));

    [Fact]
    public async Task A_flipped_byte_in_the_cached_binary_is_noticed_and_the_binary_relinked()
    {
        var engine = new KoEngine();
        var first = await engine.BuildAsync(Options);
        var binary = CachedBinary();
        var original = await File.ReadAllBytesAsync(binary);
        // The stamp keys on go's own build ID, read from the binary as go reads it.
        var goSays = await Tools.RunAsync("go", ["tool", "buildid", binary]);
        Assert.Equal(goSays.StandardOutput.Trim(), await Ko.Engine.Go.BuildInfoReader.ReadBuildIdAsync(binary, CancellationToken.None));

        // Corrupt one byte far from the build ID, keeping the size and the modification time: go will not relink.
        var mtime = File.GetLastWriteTimeUtc(binary);
        var corrupt = (byte[])original.Clone();
        corrupt[corrupt.Length / 2] ^= 0x01;
        await File.WriteAllBytesAsync(binary, corrupt);
        File.SetLastWriteTimeUtc(binary, mtime);

        var run = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.EndsWith("@" + first.Images[0].Digest, run.References[0]);
        Assert.Contains("relink", run.Stderr); // the user is told that the cache was wrong
        Assert.Equal(original, await File.ReadAllBytesAsync(CachedBinary()));

        // From then on the no-op path again: same image, nothing to warn about.
        var again = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64");
        Assert.True(again.ExitCode == 0, again.ToString());
        Assert.EndsWith("@" + first.Images[0].Digest, again.References[0]);
        Assert.DoesNotContain("relink", again.Stderr);
    }

    [Fact]
    public async Task A_changed_program_is_relinked_by_go_and_not_taken_for_corruption()
    {
        var engine = new KoEngine();
        var first = await engine.BuildAsync(Options);
        File.WriteAllText(Path.Combine(_src, "main.go"), File.ReadAllText(Path.Combine(_src, "main.go")) + "\nvar _ = \"changed\"\n");
        var run = await Repo.KoAsync(_env, "build", ".", "-C", _src, "--push=false", "--platform", "linux/amd64");
        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.DoesNotContain("@" + first.Images[0].Digest, run.Stdout);
        Assert.DoesNotContain("relink", run.Stderr);
    }
}
