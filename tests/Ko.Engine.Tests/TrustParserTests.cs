using System.Diagnostics;
using System.Text;
using Ko.Engine.Sources;
using Ko.Engine.Configuration;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Manifests;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Credentials;
using KoTarEntry = Ko.Engine.Layers.TarEntry;

namespace Ko.Engine.Tests;

/// <summary>
/// Issue 11 regressions in the parsers of outside input, each the specific input that crashed, hung, leaked or was
/// misread (several found by the fuzz suite in Fuzz/), with a well-formed twin where the fix could over-reach.
/// </summary>
public sealed class TrustParserTests : IDisposable
{
    private const string Password = "S3cr3t-pw_9";

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    // ---- .ko.yaml nesting (item 5) ----

    // Run in a child process: before the fix the YAML model recursed until the stack overflowed, which kills the
    // process (exit 134 with a stack trace) — a test host would die with it.
    [Fact]
    public async Task Ko_yaml_nested_100000_deep_is_KO1101_not_a_stack_overflow()
    {
        const int Depth = 100_000;
        _dir.WriteFile(".ko.yaml", "defaultEnv: " + new string('[', Depth) + new string(']', Depth) + "\n");

        var (exit, output) = await RunCliAsync(_dir.Path, new Dictionary<string, string>(), "build", "./cmd/app", "--push=false");

        Assert.Equal(1, exit);
        Assert.Contains("KO1101", output, StringComparison.Ordinal);
        Assert.Contains(".ko.yaml:1:", output, StringComparison.Ordinal);
        Assert.Contains("64 levels", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Ko_yaml_65_levels_is_KO1101_with_position_and_64_are_read()
    {
        var ok = KoConfigFile.Parse("defaultEnv: {A: b}\nx: " + new string('[', 63) + new string(']', 63) + "\n", "/w/.ko.yaml");
        Assert.Equal(["A=b"], ok.DefaultEnv);

        var ex = Assert.Throws<KoException>(() => KoConfigFile.Parse("defaultEnv: {A: b}\nx: " + new string('[', 64) + new string(']', 64) + "\n", "/w/.ko.yaml"));
        Assert.Equal(KoErrorCodes.ConfigSyntax, ex.Code);
        Assert.StartsWith("/w/.ko.yaml:2:67:", ex.Message, StringComparison.Ordinal);
    }

    // Found by the fuzz suite: YamlDotNet throws InvalidOperationException / ArgumentException on these.
    [Theory]
    [InlineData("a: [&x [*x]\nbuilds:\n- &y {id: *y}\n")]
    [InlineData("defaultFlags: -tri}path\ndefaultLabels: {team: platform\nbuilds: []\n")]
    [InlineData("defaultEnv: !!map {a: b}\nbuilds: !!seq] []%\n")]
    public void Ko_yaml_that_YamlDotNet_trips_over_is_KO1101(string text)
    {
        var ex = Assert.Throws<KoException>(() => KoConfigFile.Parse(text, "/w/.ko.yaml"));
        Assert.Equal(KoErrorCodes.ConfigSyntax, ex.Code);
        Assert.Matches(@"^/w/\.ko\.yaml:\d+:\d+: ", ex.Message);
    }

    // Found by the fuzz suite in CI: a list that holds itself, used as a key, made YamlDotNet hash it until the stack
    // overflowed, which kills the process. Keys through nested aliases would be hashed for exponential time.
    [Theory]
    [InlineData("&a [*a]: x\n", "1:1", "a mapping key is a list or mapping")]
    [InlineData("? &a [*a]\n: x\n", "1:3", "a mapping key is a list or mapping")]
    [InlineData("defaultFlags: &a [-v, *a]\n", "1:23", "the alias *a is inside the node that &a names")]
    [InlineData("builds:\n- &b {id: x, env: [*b]}\n", "2:20", "the alias *b is inside the node that &b names")]
    [InlineData("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: {*c : 1}\n", "4:5", "a mapping key is the alias *c of a list or mapping")]
    [InlineData("? [a, b]\n: v\n", "1:3", "a mapping key is a list or mapping")]
    public void Ko_yaml_with_a_self_containing_node_or_a_list_as_a_key_is_KO1101_naming_it(string text, string at, string why)
    {
        var ex = Assert.Throws<KoException>(() => KoConfigFile.Parse(text, "/w/.ko.yaml"));

        Assert.Equal(KoErrorCodes.ConfigSyntax, ex.Code);
        Assert.StartsWith($"/w/.ko.yaml:{at}: malformed YAML: {why}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ko_yaml_aliases_of_values_and_of_scalar_keys_still_work()
    {
        var config = KoConfigFile.Parse("defaultFlags: &f [-v, -x]\ndefaultLdflags: *f\ndefaultLabels: {&k team: a, other: *k}\n", "/w/.ko.yaml");

        Assert.Equal(["-v", "-x"], config.DefaultFlags);
        Assert.Equal(["-v", "-x"], config.DefaultLdflags);
        Assert.Equal("team", config.DefaultLabels!["other"]);
    }

    // A repository's .ko.yaml may be a FIFO (open blocked for ever) or a link to /dev/zero (read until out of memory).
    [Fact]
    public async Task Ko_yaml_that_is_a_FIFO_is_KO1102_not_a_hang()
    {
        var fifo = _dir.Combine(".ko.yaml");
        TestUtil.Run("mkfifo", fifo);

        var load = Task.Run(() => KoConfigFile.Load(fifo));
        var finished = await Task.WhenAny(load, Task.Delay(TimeSpan.FromSeconds(10)));
        if (finished != load)
        {
            await using var unblock = new FileStream(fifo, FileMode.Open, FileAccess.Write); // let the blocked open return
        }

        Assert.Same(load, finished);
        var ex = await Assert.ThrowsAsync<KoException>(() => load);
        Assert.Equal(KoErrorCodes.ConfigWrongType, ex.Code);
        Assert.Contains("FIFO", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ko_yaml_larger_than_the_cap_or_endless_is_KO1102()
    {
        var big = _dir.Combine(".ko.yaml");
        using (var f = File.Create(big))
        {
            f.SetLength(KoConfigFile.MaxBytes + 1);
        }

        var ex = Assert.Throws<KoException>(() => KoConfigFile.Load(big));
        Assert.Equal(KoErrorCodes.ConfigWrongType, ex.Code);
        Assert.Contains(big, ex.Message, StringComparison.Ordinal);

        var zero = _dir.Combine("zero.yaml");
        File.CreateSymbolicLink(zero, "/dev/zero");
        Assert.Equal(KoErrorCodes.ConfigWrongType, Assert.Throws<KoException>(() => KoConfigFile.Load(zero)).Code);
    }

    // ---- Kubernetes YAML (item 5) ----

    [Fact]
    public void Manifest_nested_100000_deep_is_KO4001_with_position()
    {
        const int Depth = 100_000;
        var ex = Assert.Throws<KoException>(() => ManifestFile.Parse("deep.yaml", "image: " + new string('[', Depth) + new string(']', Depth) + "\n"));
        Assert.Equal(KoErrorCodes.InvalidManifest, ex.Code);
        Assert.StartsWith($"deep.yaml:1:{8 + YamlTree.MaxDepth - 1}:", ex.Message, StringComparison.Ordinal);

        var fine = ManifestFile.Parse("ok.yaml", "image: " + new string('[', YamlTree.MaxDepth - 1) + "ko://example.com/x" + new string(']', YamlTree.MaxDepth - 1) + "\n");
        Assert.Single(fine.References);
    }

    // Nine anchors, each a list of nine aliases of the one before: 9^9 nodes once expanded, which apply/create/delete
    // would write out as JSON. yaml.v3 (ko's reader) refuses such "excessive aliasing" too.
    [Fact]
    public void Manifest_alias_bomb_is_KO4001()
    {
        var text = new StringBuilder("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x]\n");
        for (var i = 1; i < 9; i++)
        {
            text.Append($"  a{i}: &a{i} [{string.Join(", ", Enumerable.Repeat($"*a{i - 1}", 9))}]\n");
        }

        var ex = Assert.Throws<KoException>(() => ManifestFile.Parse("bomb.yaml", text.ToString()));
        Assert.Equal(KoErrorCodes.InvalidManifest, ex.Code);
        Assert.StartsWith("bomb.yaml:", ex.Message, StringComparison.Ordinal);
        Assert.Contains("aliases", ex.Message, StringComparison.Ordinal);

        // A few aliases, as real manifests use them, are fine.
        Assert.Single(ManifestFile.Parse("ok.yaml", "a: &x {image: ko://example.com/x}\nb: *x\nc: [*x, *x]\n").References);
    }

    // Found by the fuzz suite: the reference's range began at its anchor or tag, so rewriting dropped "&anchor"
    // and every "*anchor" after it pointed nowhere.
    [Theory]
    [InlineData("a: &anchor ko://example.com/x\nb: *anchor\n", "a: &anchor R\nb: *anchor\n")]
    [InlineData("a: &\u00a0anchor ko://example.com/x\nb: *\u00a0anchor\n", "a: &\u00a0anchor R\nb: *\u00a0anchor\n")]
    [InlineData("a: !!str ko://example.com/x\n", "a: !!str R\n")]
    [InlineData("a: &x !!str \"ko://example.com/x\"\n", "a: &x !!str \"R\"\n")]
    [InlineData("a: &x # note\n  'ko://example.com/x'\n", "a: &x # note\n  'R'\n")]
    [InlineData("a: ko://example.com/x\n", "a: R\n")]
    [InlineData("{\"a\": \"ko:\\/\\/example.com/x\"}", "{\"a\": \"R\"}")]
    [InlineData("a: &anchor \u0000ko://example.com/x\nb: *anchor\n", "a: &anchor \u0000R\nb: *anchor\n")]
    public void Rewriting_keeps_anchors_and_tags(string input, string expected)
    {
        var file = ManifestFile.Parse("in.yaml", input);
        Assert.Equal("example.com/x", Assert.Single(file.References).ImportPath);
        Assert.Equal(expected, file.Render(new Dictionary<string, string> { ["example.com/x"] = "R" }));
    }

    // ---- image references and KO_DOCKER_REPO (item 8) ----

    [Theory]
    [InlineData("user:" + Password + "@registry.example/team/app", "'***@registry.example/team/app'")]
    [InlineData("https://user:" + Password + "@host:5000/r", "'https://***@host:5000/r'")]
    [InlineData("user:p@" + Password + "@host/x:v1", "'***@host/x:v1'")]
    [InlineData("user:" + Password + "@host:5000", "'***@host:5000'")]
    [InlineData("user:" + Password + "@host", "'***@host'")]
    [InlineData("u:" + Password + "@ghcr.io/a@sha256:13bc65fa95c573c9418b90a4d337ee592f6172b83ce3bbf15603e4e9619af401", "'***@ghcr.io/a@sha256:13bc")]
    [InlineData("4f:" + Password + "@https://user:secret@host:5000/r", "'***@host:5000/r'")]
    public void Reference_with_credentials_is_refused_and_redacted(string text, string shown)
    {
        var ex = Assert.Throws<KoException>(() => ImageReference.Parse(text));
        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains(shown, ex.Message, StringComparison.Ordinal);
        Assert.Contains("dotnet ko login", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, ex.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alpine@sha256:13bc65fa95c573c9418b90a4d337ee592f6172b83ce3bbf15603e4e9619af401")]
    [InlineData("localhost:5000/a/b:v1@sha256:13bc65fa95c573c9418b90a4d337ee592f6172b83ce3bbf15603e4e9619af401")]
    public void References_with_a_digest_still_parse(string text) => Assert.NotNull(ImageReference.Parse(text).Digest);

    [Fact]
    public void A_bad_digest_is_reported_as_a_digest_not_as_credentials()
    {
        var ex = Assert.Throws<KoException>(() => ImageReference.Parse("alpine@sha256:abc"));
        Assert.Contains("'sha256:abc' is not a digest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task KO_DOCKER_REPO_with_a_password_is_refused_without_showing_it()
    {
        foreach (var push in new[] { "--push=true", "--push=false" })
        {
            var (exit, output) = await RunCliAsync(_dir.Path, new Dictionary<string, string> { ["KO_DOCKER_REPO"] = "me:" + Password + "@localhost:5000/team" }, "build", "./cmd/app", push);

            Assert.Equal(1, exit);
            Assert.Contains("KO1004", output, StringComparison.Ordinal);
            Assert.Contains("***@localhost:5000/team", output, StringComparison.Ordinal);
            Assert.DoesNotContain(Password, output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Base_image_with_a_password_is_refused_without_showing_it()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var ex = await Assert.ThrowsAsync<KoException>(() => BaseImageResolver.ResolveAsync("https://me:" + Password + "@127.0.0.1:1/base", _dir.Path, store, new LayerCache(store), () => new RegistryOptions(), CancellationToken.None));
        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.DoesNotContain(Password, ex.ToString(), StringComparison.Ordinal);
    }

    // ---- docker config.json ----

    // Found by the fuzz suite: a name written twice made the JSON node model throw ArgumentException.
    [Fact]
    public void Docker_config_with_a_key_written_twice_takes_the_last()
    {
        var auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("u:pw"));
        var config = DockerConfig.Parse($$"""{"auths":{"a.example":{},"a.example":{"auth":"{{auth}}"} },"credHelpers":{"h":"x","h":"y"},"credsStore":"one","credsStore":"two" }""", "/c/config.json");

        Assert.Equal("pw", config.AuthFor("a.example")!.Password);
        Assert.Equal("y", config.HelperFor("h"));
        Assert.Equal("two", config.CredsStore);
    }

    // Found by the fuzz suite: the JSON reader's message quotes the text at the error, here a password.
    [Fact]
    public void Docker_config_syntax_error_does_not_quote_the_file()
    {
        var ex = Assert.Throws<KoException>(() => DockerConfig.Parse("{\"auths\":{\"r\":{\"password\":t" + Password + "\"}}}", "/c/config.json"));
        Assert.Equal(KoErrorCodes.AuthenticationFailed, ex.Code);
        Assert.Contains("/c/config.json is not valid JSON (line 1,", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, ex.ToString(), StringComparison.Ordinal);
    }

    // ---- OCI JSON: an oci: base with the wrong JSON types (item 5) ----

    [Theory]
    [InlineData("\"config\":{\"Env\":5}", "'config.Env' must be a list of strings, not a number")]
    [InlineData("\"config\":{\"Env\":[\"PATH=/bin\",5]}", "'config.Env[1]' must be a string, not a number")]
    [InlineData("\"config\":[]", "'config' must be an object, not a list")]
    [InlineData("\"rootfs\":\"x\"", "'rootfs' must be an object, not a string")]
    [InlineData("\"os\":{}", "'os' must be a string, not an object")]
    [InlineData("\"created\":5", "'created' must be a string, not a number")]
    [InlineData("\"history\":[{\"empty_layer\":\"no\"}]", "'history[0].empty_layer' must be true or false, not a string")]
    [InlineData("\"config\":{\"Labels\":{\"a\":{}}}", "'config.Labels.a' must be a string, not an object")]
    [InlineData("\"created\":\"2024-01-01T00:00:00Z\",\"created\":\"2024-01-01T00:00:00Z\"", "'created' is written twice")] // found by the long fuzz run
    [InlineData("\"config\":{\"Labels\":{\"a\":\"1\",\"a\":\"2\"}}", "'config.Labels.a' is written twice")]
    public async Task Oci_base_config_with_a_wrong_type_is_an_error_naming_document_and_field(string field, string expected)
    {
        var layout = WriteLayout("{" + field + ",\"architecture\":\"amd64\"" + (field.StartsWith("\"os\"", StringComparison.Ordinal) ? "" : ",\"os\":\"linux\"") + "}");

        var ex = await Assert.ThrowsAsync<KoException>(async () =>
        {
            using var b = await OciLayoutBase.OpenAsync("oci:" + layout, "/", CancellationToken.None);
            var image = await b.GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
            var layer = new FileLayer(new Descriptor(MediaTypes.OciLayerGzip, Digest.Sha256([1]), 1), Digest.Sha256([2]), "/nonexistent");
            ImageAssembler.Assemble(image, b.Name, layer, layer, new AppImageSpec { ImportPath = "example.com/app", AppPath = "/ko-app/app" });
        });
        Assert.Equal(KoErrorCodes.InvalidBaseImage, ex.Code);
        Assert.Contains($"base image 'oci:{layout}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Oci_base_config_with_the_right_types_still_assembles()
    {
        var layout = WriteLayout("{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":null,\"config\":{\"Env\":[\"PATH=/bin\",null],\"Labels\":{\"a\":\"b\"}},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]},\"history\":[{\"created_by\":\"x\",\"empty_layer\":true}]}");
        using var b = await OciLayoutBase.OpenAsync("oci:" + layout, "/", CancellationToken.None);
        var image = await b.GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var layer = new FileLayer(new Descriptor(MediaTypes.OciLayerGzip, Digest.Sha256([1]), 1), Digest.Sha256([2]), "/nonexistent");
        var app = ImageAssembler.Assemble(image, b.Name, layer, layer, new AppImageSpec { ImportPath = "example.com/app", AppPath = "/ko-app/app" });
        Assert.Contains("PATH=/bin:/ko-app", Encoding.UTF8.GetString(app.ConfigBytes.Span), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"m\",\"digest\":\"sha256:" + Hex64 + "\",\"size\":\"7\"}}", "config has no valid 'size'")]
    [InlineData("{\"config\":{\"mediaType\":\"m\",\"digest\":\"sha256:" + Hex64 + "\",\"size\":7},\"layers\":{}}", "'layers' must be a list, not an object")]
    [InlineData("{\"config\":{\"mediaType\":\"m\",\"digest\":\"sha256:" + Hex64 + "\",\"size\":7,\"artifactType\":5}}", "'config.artifactType' must be a string")]
    [InlineData("[1]", "'the manifest' must be an object, not a list")]
    [InlineData("{\"config\":{\"mediaType\":\"m\",\"digest\":\"sha256:" + Hex64 + "\",\"size\":7,\"platform\":{\"os\":5}}}", "'config.platform.os' must be a string")]
    public void Manifest_with_a_wrong_type_is_a_FormatException_naming_the_field(string json, string expected)
    {
        var ex = Assert.Throws<FormatException>(() => Manifest.Parse(Encoding.UTF8.GetBytes(json), "base (sha256:m)"));
        Assert.StartsWith("base (sha256:m): ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Index_nested_too_deep_is_a_FormatException()
    {
        var ex = Assert.Throws<FormatException>(() => Oci.Index.Parse(Encoding.UTF8.GetBytes("{\"manifests\":" + new string('[', 100) + new string(']', 100) + "}"), "index.json"));
        Assert.StartsWith("index.json: not valid JSON", ex.Message, StringComparison.Ordinal);
        Assert.False(Oci.Index.LooksLikeIndex("[]"u8));
        Assert.False(Oci.Index.LooksLikeIndex("{"u8));
    }

    private const string Hex64 = "13bc65fa95c573c9418b90a4d337ee592f6172b83ce3bbf15603e4e9619af401";

    // ---- platforms ----

    [Theory]
    [InlineData("windows/amd64:10.0.17763.1234", "10.0.17763.1234")]
    [InlineData("linux/arm/v7:1", "1")]
    public void Platform_with_an_os_version_keeps_it_as_go_containerregistry_parses_it(string text, string osVersion)
    {
        // ko parses --platform with v1.ParsePlatform: os/arch[/variant][:osversion].
        var p = Platform.Parse(text);
        Assert.Equal(osVersion, p.OsVersion);
        Assert.Equal(text, p.ToString());
        Assert.Null(Platform.Parse("linux/arm/v7").OsVersion);
    }

    // ---- Link header ----

    [Theory]
    [InlineData("<http://other.example/v2/a/tags/list?last=b>; rel=\"next\"", null)] // HTTPS down to HTTP
    [InlineData("<file:///etc/passwd>; rel=\"next\"", null)]
    [InlineData("<http://[::1]:99999/x>; rel=\"next\"", null)]
    [InlineData("</v2/a/tags/list?last=b>; rel=\"next\"", "https://registry.example/v2/a/tags/list?last=b")]
    [InlineData("<file://\u202a/////////////etc/passwd>; rel=\"next\"", null)] // .NET's Uri threw IndexOutOfRangeException (fuzz)
    public void Link_next_page_is_https_or_nothing(string header, string? expected) =>
        Assert.Equal(expected, RegistryClient.NextPage([header], new Uri("https://registry.example/v2/a/tags/list"))?.ToString());

    // ---- tar names ----

    // Found by the fuzz suite: a lone surrogate (a file name that is not UTF-8 on disk) was written as U+FFFD, a
    // different name; a NUL would end the name early in every reader.
    [Theory]
    [InlineData("lone surrogate")]
    [InlineData("NUL")]
    [InlineData("empty")]
    public async Task Tar_name_that_cannot_be_written_exactly_is_KO2005(string kind)
    {
        var name = kind switch { "lone surrogate" => "var/run/ko/\ud800x", "NUL" => "var/run/ko/a\0b", _ => string.Empty };
        var ex = await Assert.ThrowsAsync<KoException>(() => TestUtil.WriteTarAsync(async w => await w.WriteEntryAsync(new KoTarEntry(name, TarEntryType.File, 0x1a4, 0, 0), CancellationToken.None)));
        Assert.Equal(KoErrorCodes.KodataUnreadable, ex.Code);
    }

    // Hostile names (non-ASCII, too long to split, long link targets) as Go's archive/tar (ko's writer) writes
    // them, byte for byte, so the layer digests stay ko's.
    [Fact]
    public async Task Tar_bytes_for_hostile_names_equal_go_archive_tar()
    {
        var entries = new[]
        {
            new KoTarEntry("var/run/ko/\u00e9.txt", TarEntryType.File, 0x16d, 0, 315_532_800),
            new KoTarEntry(new string('n', 150), TarEntryType.File, 0x1a4, 0, 0),
            new KoTarEntry(new string('n', 150) + "/x", TarEntryType.Symlink, 0x1ff, 0, 0) { LinkName = "/" + new string('t', 120) },
            new KoTarEntry("var/run/ko/\u65e5\u672c/", TarEntryType.Directory, 0x16d, 0, 315_532_800),
            new KoTarEntry("a/" + new string('b', 99), TarEntryType.File, 0x1a4, 0, 0),
            new KoTarEntry("ko-app/caf\u00e9", TarEntryType.File, 0x16d, 0, 0) { LinkName = null, PaxRecords = new Dictionary<string, byte[]> { ["SCHILY.xattr.security.capability"] = [1, 0, 0, 2] } },
        };
        var ours = await TestUtil.WriteTarAsync(async w =>
        {
            foreach (var e in entries)
            {
                await w.WriteEntryAsync(e, CancellationToken.None);
            }
        });

        static string Go(string s) => "\"" + string.Concat(Encoding.UTF8.GetBytes(s).Select(b => $"\\x{b:x2}")) + "\"";
        var headers = string.Join("\n", entries.Select(e =>
            $"\tw.WriteHeader(&tar.Header{{Name: {Go(e.Name)}, Linkname: {Go(e.LinkName ?? "")}, Typeflag: {(int)e.Type}, Mode: {e.Mode}, ModTime: time.Unix({e.ModifiedTime}, 0), " +
            $"PAXRecords: map[string]string{{{string.Join(",", (e.PaxRecords ?? new Dictionary<string, byte[]>()).Select(kv => Go(kv.Key) + ": " + "string([]byte{" + string.Join(",", kv.Value) + "})"))}}}}})"));
        _dir.WriteFile("gotar/go.mod", "module gotar\ngo 1.21\n");
        _dir.WriteFile("gotar/main.go", "package main\n\nimport (\n\t\"archive/tar\"\n\t\"os\"\n\t\"time\"\n)\n\nfunc main() {\n\tw := tar.NewWriter(os.Stdout)\n" + headers + "\n\tw.Close()\n}\n");
        var start = new ProcessStartInfo(ToolPath.Require("go"), ["run", "."]) { WorkingDirectory = _dir.Combine("gotar"), RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["GOFLAGS"] = "-mod=mod";
        using var go = Process.Start(start)!;
        using var stdout = new MemoryStream();
        var copy = go.StandardOutput.BaseStream.CopyToAsync(stdout);
        var errors = go.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await go.WaitForExitAsync(timeout.Token);
        await copy;
        Assert.True(go.ExitCode == 0, await errors);

        // Go pads the archive to a 10 KiB record; the entries and the two end blocks are what must match.
        var theirs = stdout.ToArray();
        Assert.Equal(Convert.ToHexString(ours), Convert.ToHexString(theirs.AsSpan(0, ours.Length)));
        Assert.All(theirs[ours.Length..], b => Assert.Equal(0, b));
    }

    private string WriteLayout(string config)
    {
        var dir = _dir.Combine("layout-" + Guid.NewGuid().ToString("N"));
        var configBytes = Encoding.UTF8.GetBytes(config);
        var configDigest = Put(dir, configBytes);
        var manifest = Encoding.UTF8.GetBytes($$"""{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{{configDigest}}","size":{{configBytes.Length}}},"layers":[]}""");
        var manifestDigest = Put(dir, manifest);
        File.WriteAllText(Path.Combine(dir, "index.json"), $$"""{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{{manifestDigest}}","size":{{manifest.Length}}}]}""");
        File.WriteAllText(Path.Combine(dir, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}");
        return dir;
    }

    private static string Put(string dir, byte[] bytes)
    {
        var hex = TestUtil.Sha256Hex(bytes);
        Directory.CreateDirectory(Path.Combine(dir, "blobs", "sha256"));
        File.WriteAllBytes(Path.Combine(dir, "blobs", "sha256", hex), bytes);
        return "sha256:" + hex;
    }

    /// <summary>Runs <c>dotnet ko</c> (the built Ko.Cli.dll) in a child process, bounded in time; returns its exit code and stdout+stderr.</summary>
    private static async Task<(int Exit, string Output)> RunCliAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Ko.Cli.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "KO_DOCKER_REPO", "KO_CONFIG_PATH", "KO_DEFAULTBASEIMAGE" })
        {
            start.Environment.Remove(name);
        }

        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return (process.ExitCode, await stdout + await stderr);
    }
}
