namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Builds and runs <c>cosigncheck/main.go</c>: cosign-format signature checks and signing with containers/image 5.23
/// (Debian's packaged source, the library in skopeo and podman) and golang.org/x/crypto, because Debian's skopeo and
/// podman answer every sigstore step with "Debian-local change: sigstore disabled". Needs the Debian packages
/// golang-github-containers-image-dev and golang-golang-x-crypto-dev (./test.sh installs them); fails loudly without.
/// Built once per test run in GOPATH mode from an overlay of symbolic links, so the program may use
/// containers/image's internal packages; the Go build cache is kept between runs.
/// </summary>
internal static class CosignCheck
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
        var result = await Tools.RunAsync(await BinaryAsync(), args, check: false);
        return (result.ExitCode, result.StandardOutput.Trim() + result.StandardError.Trim());
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
        File.Copy(Path.Combine(Repo.Root, "tests/Ko.Engine.IntegrationTests/cosigncheck/main.go"), Path.Combine(program, "main.go"));
        var output = Path.Combine(root, "cosigncheck");
        var env = new Dictionary<string, string?>
        {
            ["GO111MODULE"] = "off",
            ["GOPATH"] = $"{root}:/usr/share/gocode",
            ["GOFLAGS"] = string.Empty,
            ["GOCACHE"] = Path.Combine(Path.GetTempPath(), "ko-cosigncheck-gocache"),
        };
        await Tools.RunAsync("go", ["build", "-o", output, "."], workingDirectory: program, env: env);
        return output;
    }
}
