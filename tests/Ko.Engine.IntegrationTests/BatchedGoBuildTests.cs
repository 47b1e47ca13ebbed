using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Ko.Engine.Configuration;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// A run with several commands builds them with one <c>go build -o DIR pkg1 pkg2 ...</c> per platform and settings
/// (the real go): each image holds its own command's binary, a no-op rebuild gives the same images, and a command
/// that does not compile is reported under its own import path.
/// </summary>
public sealed class BatchedGoBuildTests : IDisposable
{
    private static readonly string[] Commands = ["cmd/alpha", "cmd/beta", "tools/alpha"];
    private readonly TempDir _dir = new("ko-batch");
    private readonly string _module;

    public BatchedGoBuildTests()
    {
        _module = _dir.Combine("mod");
        Directory.CreateDirectory(_module);
        File.WriteAllText(Path.Combine(_module, "go.mod"), "module example.com/many\n\ngo 1.19\n");
        foreach (var dir in Commands)
        {
            Directory.CreateDirectory(Path.Combine(_module, dir));
            File.WriteAllText(Path.Combine(_module, dir, "main.go"), $"package main\n\nimport \"fmt\"\n\nfunc main() {{ fmt.Println(\"{dir}\") }}\n");
        }
    }

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options => new()
    {
        ImportPaths = ["./cmd/...", "./tools/..."],
        WorkingDirectory = _module,
        Push = false,
        Platforms = ["linux/amd64"],
        Environment = Repo.Environment(_dir.Combine("cache")),
        OciLayoutPath = _dir.Combine("layout"),
    };

    /// <summary>The bytes of /ko-app/NAME in the image's last layer, read from the layout.</summary>
    private byte[] AppBinary(KoImageResult image)
    {
        string Blob(string digest) => Path.Combine(_dir.Combine("layout"), "blobs", "sha256", digest["sha256:".Length..]);
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(Blob(image.Digest.ToString())));
        var layer = manifest.RootElement.GetProperty("layers").EnumerateArray().Last().GetProperty("digest").GetString()!;
        using var file = File.OpenRead(Blob(layer));
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType == TarEntryType.RegularFile && entry.Name.StartsWith("/ko-app/", StringComparison.Ordinal))
            {
                using var bytes = new MemoryStream();
                entry.DataStream!.CopyTo(bytes);
                return bytes.ToArray();
            }
        }

        throw new InvalidOperationException($"no /ko-app/ file in {layer}");
    }

    [Fact]
    public async Task Several_commands_are_built_by_one_go_build_and_each_image_holds_its_own_binary()
    {
        var built = await new KoEngine().BuildAsync(Options);

        Assert.Equal(["example.com/many/cmd/alpha", "example.com/many/cmd/beta", "example.com/many/tools/alpha"], built.Images.Select(i => i.ImportPath));
        var batch = Assert.Single(Directory.GetDirectories(_dir.Combine("cache", "go"), "batch-*"));
        Assert.Equal(["alpha", "beta"], Directory.GetFiles(Path.Combine(batch, "linux_amd64")).Select(Path.GetFileName).Where(n => !n!.EndsWith(".stamp", StringComparison.Ordinal)).Order());
        Assert.True(File.Exists(Path.Combine(batch, "linux_amd64", ".dup1", "alpha"))); // the second command named alpha
        foreach (var (image, dir) in built.Images.Zip(Commands))
        {
            var single = _dir.Combine("single", dir.Replace('/', '_'));
            await Tools.RunAsync("go", ["build", "-trimpath", "-o", single, "./" + dir], _module, new Dictionary<string, string?> { ["CGO_ENABLED"] = "0", ["GOOS"] = "linux", ["GOARCH"] = "amd64" });
            Assert.True(AppBinary(image).SequenceEqual(File.ReadAllBytes(single)), $"{image.ImportPath}: the image's binary is not its own build's");
        }

        var again = await new KoEngine().BuildAsync(Options);
        Assert.Equal(built.Images.Select(i => i.Digest), again.Images.Select(i => i.Digest));
        Assert.Equal(0, again.Statistics.LayersWritten);
    }

    [Fact]
    public async Task A_command_that_does_not_compile_is_reported_under_its_own_import_path()
    {
        File.WriteAllText(Path.Combine(_module, "cmd", "beta", "main.go"), "package main\n\nfunc main() { undefinedThing() }\n");

        var ex = await Assert.ThrowsAsync<KoException>(() => new KoEngine().BuildAsync(Options));

        Assert.Equal(KoErrorCodes.BuildFailed, ex.Code);
        Assert.Equal("example.com/many/cmd/beta", ex.ImportPath);
        Assert.Contains("undefinedThing", ex.Message);
    }
}
