using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// ko's own .ko.yaml examples (multi-module dir, main as a file, ldflags with {{.Env.VERSION}}, default platforms),
/// built with dotnet ko and run with podman; the image keys ko lacks, read back with skopeo; bad input exits 1.
/// </summary>
public sealed class KoCompatTests : IDisposable
{
    private const string MainGo = """
        package main

        import (
        	"flag"
        	"fmt"
        	"os"
        )

        var version = "dev"

        func main() {
        	v := flag.Bool("version", false, "print the version")
        	flag.Parse()
        	if *v {
        		fmt.Println(NAME + " " + version)
        		return
        	}
        	fmt.Println(NAME, os.Args[1:], os.Getenv("MODE"))
        }
        """;

    private readonly TempDir _dir = new("ko-compat");

    public void Dispose() => _dir.Dispose();

    private string Module(string relative, string module, string name)
    {
        var dir = _dir.Combine(relative);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "go.mod"), $"module {module}\n\ngo 1.21\n");
        return dir;
    }

    private static void Program(string dir, string name, string file = "main.go")
    {
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, file), MainGo.Replace("NAME", $"\"{name}\"", StringComparison.Ordinal));
    }

    private Dictionary<string, string?> Env(Dictionary<string, string?>? extra = null)
    {
        var all = new Dictionary<string, string?> { ["GOOS"] = null, ["GOARCH"] = null, ["GOARM"] = null, ["KO_CONFIG_PATH"] = null, ["GOFLAGS"] = null };
        foreach (var (k, v) in extra ?? [])
        {
            all[k] = v;
        }

        return Repo.Environment(_dir.Combine("cache"), all);
    }

    [Fact]
    public async Task Kos_documented_examples_build_and_run_with_the_templated_ldflags()
    {
        var root = Module("root", "example.com/root", "root");
        Program(Path.Combine(root, "cmd", "app"), "app", "app.go");
        var bar = Module("root/bar", "example.com/bar", "bar");
        Program(bar, "bar");
        var host = Platform.Host();
        var other = host.Architecture == "arm64" ? "linux/amd64" : "linux/arm64";
        File.WriteAllText(Path.Combine(root, ".ko.yaml"), $"""
            defaultPlatforms:
            - {host}
            - {other}
            builds:
            - id: app
              main: ./cmd/app/app.go
              ldflags:
              - -s -w
              - -X main.version={"{{"}.Env.VERSION{"}}"}
            - id: bar
              dir: ./bar
              ldflags: -X main.version=bar-{"{{"}.Env.VERSION{"}}"}
            """);
        var layout = _dir.Combine("layout");
        var tarball = _dir.Combine("images.tar");

        var run = await Repo.KoAsync(Env(new() { ["VERSION"] = "1.2.3" }), "build", "./cmd/app", "ko://example.com/bar", "-C", root, "--push=false", "--oci-layout-path", layout, "--tarball", tarball);

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Equal(2, run.References.Count);
        // Default platforms: each image is an index of the two platforms.
        foreach (var reference in run.References)
        {
            var raw = await Tools.RunAsync("skopeo", ["inspect", "--raw", $"oci:{layout}:{reference.Split('@')[0]}:latest"]);
            using var index = JsonDocument.Parse(raw.StandardOutput);
            Assert.Equal(2, index.RootElement.GetProperty("manifests").GetArrayLength());
        }

        using var storage = new TempDir("ko-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", tarball]);
        var app = await Tools.PodmanRunAsync(storage.Path, run.References[0].Split('@')[0] + ":latest", "-version");
        Assert.Equal("app 1.2.3", app.StandardOutput.Trim());
        var barRun = await Tools.PodmanRunAsync(storage.Path, run.References[1].Split('@')[0] + ":latest", "-version");
        Assert.Equal("bar bar-1.2.3", barRun.StandardOutput.Trim());
    }

    [Fact]
    public async Task Image_keys_past_ko_show_in_the_config_and_the_running_container()
    {
        var root = Module("m", "example.com/m", "m");
        Program(Path.Combine(root, "cmd", "web"), "web");
        File.WriteAllText(Path.Combine(root, ".ko.yaml"), """
            defaultLabels:
              org.example/team: core
            builds:
            - main: ./cmd/web
              labels:
                org.example/version: "{{.Env.VERSION}}"
              annotations:
                org.example/note: hello
              user: "1234:1234"
              imageEnv: [MODE=production]
              entrypoint: [/ko-app/web, --]
              args: [serve, "8080"]
              linux_capabilities: CAP_NET_BIND_SERVICE
            """);
        var layout = _dir.Combine("layout");
        var tarball = _dir.Combine("web.tar");

        var run = await Repo.KoAsync(Env(new() { ["VERSION"] = "2.0.0" }), "build", "./cmd/web", "-C", root, "--push=false", "--platform", Platform.Host().ToString(), "--oci-layout-path", layout, "--tarball", tarball);

        Assert.True(run.ExitCode == 0, run.ToString());
        var name = run.References[0].Split('@')[0];
        var configText = (await Tools.RunAsync("skopeo", ["inspect", "--config", $"oci:{layout}:{name}:latest"])).StandardOutput;
        using var config = JsonDocument.Parse(configText);
        var c = config.RootElement.GetProperty("config");
        Assert.Equal("core", c.GetProperty("Labels").GetProperty("org.example/team").GetString());
        Assert.Equal("2.0.0", c.GetProperty("Labels").GetProperty("org.example/version").GetString());
        Assert.Equal("1234:1234", c.GetProperty("User").GetString());
        Assert.Contains("MODE=production", c.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Contains("KO_DATA_PATH=/var/run/ko", c.GetProperty("Env").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["/ko-app/web", "--"], c.GetProperty("Entrypoint").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["serve", "8080"], c.GetProperty("Cmd").EnumerateArray().Select(e => e.GetString()));

        var manifestText = (await Tools.RunAsync("skopeo", ["inspect", "--raw", $"oci:{layout}:{name}:latest"])).StandardOutput;
        using var manifest = JsonDocument.Parse(manifestText);
        Assert.Equal("hello", manifest.RootElement.GetProperty("annotations").GetProperty("org.example/note").GetString());

        using var storage = new TempDir("ko-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", tarball]);
        var output = await Tools.PodmanRunAsync(storage.Path, name + ":latest");
        Assert.Equal("web [-- serve 8080] production", output.StandardOutput.Trim());

        // linux_capabilities: the binary's tar entry carries the security.capability xattr (vfs_cap_data v2).
        var binaryLayer = manifest.RootElement.GetProperty("layers").EnumerateArray().Last().GetProperty("digest").GetString()!;
        var blob = Path.Combine(layout, "blobs", "sha256", binaryLayer["sha256:".Length..]);
        await using var gz = new System.IO.Compression.GZipStream(File.OpenRead(blob), System.IO.Compression.CompressionMode.Decompress);
        using var tar = new System.Formats.Tar.TarReader(gz);
        System.Formats.Tar.TarEntry? entry;
        string? xattr = null;
        while ((entry = await tar.GetNextEntryAsync()) is not null)
        {
            if (entry.Name == "/ko-app/web" && entry is System.Formats.Tar.PaxTarEntry pax)
            {
                xattr = pax.ExtendedAttributes.GetValueOrDefault("SCHILY.xattr.security.capability");
            }
        }

        Assert.NotNull(xattr);
        // A plain name sets the permitted bit only (ko pkg/caps/caps.go): magic 0x02000000 without the effective flag.
        Assert.Equal(Convert.FromHexString("0000000200040000000000000000000000000000"), xattr.Select(ch => (byte)ch).ToArray());
    }

    [Theory]
    [InlineData("builds:\n- id: [x\n", null, "KO1101", ".ko.yaml:")]
    [InlineData("defaultPlatforms: {x: y}\n", null, "KO1102", "defaultPlatforms")]
    [InlineData("builds:\n- main: ./cmd/app\n  ldflags: -X main.version={{.Env.KO_COMPAT_UNSET}}\n", null, "KO1103", "KO_COMPAT_UNSET")]
    [InlineData("", "--platform", "KO1104", "GOOS")]
    public async Task Bad_input_exits_1_with_a_clear_message(string yaml, string? platformFlag, string code, string text)
    {
        var root = Module("bad", "example.com/bad", "bad");
        Program(Path.Combine(root, "cmd", "app"), "app");
        File.WriteAllText(Path.Combine(root, ".ko.yaml"), yaml);
        var env = Env(platformFlag is null ? null : new() { ["GOOS"] = "linux" });
        string[] args = ["build", "./cmd/app", "-C", root, "--push=false", .. (platformFlag is null ? Array.Empty<string>() : new[] { platformFlag, "linux/amd64" })];

        var run = await Repo.KoAsync(env, args);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"Error: {code}:", run.Stderr);
        Assert.Contains(text, run.Stderr);
        Assert.Empty(run.Stdout);
    }

    [Fact]
    public async Task An_unknown_key_warns_with_the_nearest_known_key_and_the_build_goes_on()
    {
        var root = Module("warn", "example.com/warn", "warn");
        Program(Path.Combine(root, "cmd", "app"), "app");
        File.WriteAllText(Path.Combine(root, ".ko.yaml"), "defaultPlatfroms: [linux/amd64]\n");

        var run = await Repo.KoAsync(Env(), "build", "./cmd/app", "-C", root, "--push=false");

        Assert.True(run.ExitCode == 0, run.ToString());
        Assert.Contains("did you mean 'defaultPlatforms'", run.Stderr);
    }
}
