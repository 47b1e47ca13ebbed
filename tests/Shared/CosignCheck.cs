using System.Diagnostics;

namespace KoAddins.TestSupport;

/// <summary>
/// Builds and runs <c>cosigncheck/main.go</c>: cosign-format signature checks and signing with containers/image 5.23
/// (Debian's packaged source, the library in skopeo and podman) and golang.org/x/crypto, because Debian's skopeo and
/// podman answer every sigstore step with "Debian-local change: sigstore disabled". Needs the Debian packages
/// golang-github-containers-image-dev and golang-golang-x-crypto-dev (./test.sh installs them); fails loudly without.
/// Built once per test run in GOPATH mode from an overlay of symbolic links, so the program may use
/// containers/image's internal packages; the Go build cache is kept between runs. Shared by the engine's and the
/// faces' test projects (linked), so each face's signing test has the same independent verifier.
/// </summary>
public static class CosignCheck
{
    private const string Sources = "/usr/share/gocode/src";
    private static readonly SemaphoreSlim Gate = new(1, 1);
    private static string? _binary;

    /// <summary>The path of the built program.</summary>
    public static async Task<string> BinaryAsync()
    {
        await Gate.WaitAsync();
        try
        {
            return _binary ??= await BuildAsync();
        }
        finally
        {
            Gate.Release();
        }
    }

    /// <summary>Runs the program; returns the exit code and its standard output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(params string[] args)
    {
        var (code, stdout, stderr) = await RunProcessAsync(await BinaryAsync(), args, null, null);
        return (code, stdout.Trim() + stderr.Trim());
    }

    private static async Task<string> BuildAsync()
    {
        var image = Path.Combine(Sources, "github.com/containers/image");
        foreach (var need in new[] { Path.Combine(image, "signature/internal/sigstore_payload.go"), Path.Combine(Sources, "golang.org/x/crypto/nacl/secretbox/secretbox.go") })
        {
            if (!File.Exists(need))
            {
                throw new InvalidOperationException($"prerequisite {need} is missing: install golang-github-containers-image-dev and golang-golang-x-crypto-dev (./test.sh does).");
            }
        }

        var root = Path.Combine(Path.GetTempPath(), $"ko-cosigncheck-{Environment.ProcessId}");
        var v5 = Path.Combine(root, "src/github.com/containers/image/v5");
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }

        // src/github.com/containers/image/v5 -> Debian's tree, entry by entry, with signature/ a real directory holding
        // links to its entries and the program, so the program's import path sits where internal packages are allowed.
        Directory.CreateDirectory(Path.Combine(v5, "signature"));
        foreach (var entry in Directory.EnumerateFileSystemEntries(image).Where(e => Path.GetFileName(e) != "signature"))
        {
            File.CreateSymbolicLink(Path.Combine(v5, Path.GetFileName(entry)), entry);
        }

        foreach (var entry in Directory.EnumerateFileSystemEntries(Path.Combine(image, "signature")))
        {
            File.CreateSymbolicLink(Path.Combine(v5, "signature", Path.GetFileName(entry)), entry);
        }

        var program = Path.Combine(v5, "signature", "cosigncheck");
        Directory.CreateDirectory(program);
        File.Copy(Path.Combine(TestsRoot(), "Ko.Engine.IntegrationTests/cosigncheck/main.go"), Path.Combine(program, "main.go"));
        var output = Path.Combine(root, "cosigncheck");
        var env = new Dictionary<string, string?>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = $"{root}:/usr/share/gocode",
            ["GOFLAGS"] = string.Empty,
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "ko-cosigncheck-gocache"),
        };
        var (code, stdout, stderr) = await RunProcessAsync(ToolPath.Require("go"), ["build", "-o", output, "."], program, env);
        if (code != 0)
        {
            throw new InvalidOperationException($"building cosigncheck failed (exit {code}):\n{stdout}\n{stderr}");
        }

        return output;
    }

    // tests/ from this source file's own path (known at compile time), whichever project links it.
    private static string TestsRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(sourceFile))!;

    private static async Task<(int Code, string Stdout, string Stderr)> RunProcessAsync(string program, IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string?>? env)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory ?? string.Empty };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            start.Environment[k] = v;
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', start.ArgumentList)} did not finish in 5 minutes");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}
