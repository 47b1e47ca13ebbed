using Ko.Engine.Configuration;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;

namespace Ko.Engine.Tests;

/// <summary>The README "Environment" table, row by row, plus .ko.yaml parsing and its bad input.</summary>
public sealed class ConfigPrecedenceTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private KoBuildOptions Options(string? yaml = null, Dictionary<string, string?>? env = null)
    {
        if (yaml is not null)
        {
            _dir.WriteFile(".ko.yaml", yaml);
        }

        var e = env ?? [];
        e.TryAdd("HOME", _dir.Path);
        return new KoBuildOptions { ImportPaths = ["./cmd/app"], WorkingDirectory = _dir.Path, Push = false, Environment = e };
    }

    private static TemplateContext Templates(KoBuildOptions o) =>
        new(o.Environment!, o.WorkingDirectory!, DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), _ => throw new InvalidOperationException("go env must not run"), gitPath: "/nonexistent/git");

    private static Task<BuildSettings> Settings(KoBuildOptions o, int? build = null, string? importPath = null)
    {
        var plan = BuildPlan.Create(o);
        return plan.SettingsAsync(build is { } b ? plan.Config.Builds[b] : null, importPath, Templates(o), CancellationToken.None);
    }

    // Row: KO_DEFAULTBASEIMAGE / defaultBaseImage / baseImageOverrides / --base-image.
    public static TheoryData<string?, string?, string?, string?, string> BaseImageRows => new()
    {
        // cli, env, yaml default, override for the import path, expected
        { null, null, null, null, "embedded:static" },
        { null, null, "scratch", null, "scratch" },
        { null, "oci:env", "scratch", null, "oci:env" },
        { null, "oci:env", "scratch", "oci:override", "oci:override" },
        { "oci:cli", "oci:env", "scratch", "oci:override", "oci:cli" },
    };

    [Theory]
    [MemberData(nameof(BaseImageRows))]
    public void Base_image_precedence(string? cli, string? env, string? yamlDefault, string? overrideFor, string expected)
    {
        var yaml = (yamlDefault is null ? "" : $"defaultBaseImage: {yamlDefault}\n") + (overrideFor is null ? "" : $"baseImageOverrides:\n  Example.com/App/cmd/App: {overrideFor}\n");
        var plan = BuildPlan.Create(Options(yaml, env is null ? null : new() { ["KO_DEFAULTBASEIMAGE"] = env }) with { BaseImage = cli });
        Assert.Equal(expected, plan.BaseImageFor("example.com/app/cmd/app")); // matched on the lower-cased import path
        Assert.Equal(cli ?? env ?? yamlDefault ?? "embedded:static", plan.BaseImageFor("example.com/other"));
    }

    // Row: platforms: --platform > KO_DEFAULTPLATFORMS > defaultPlatforms > GOOS/GOARCH/GOARM > host.
    public static TheoryData<string?, string?, string?, string?, string?, string?, string> PlatformRows => new()
    {
        // cli, KO_DEFAULTPLATFORMS, defaultPlatforms, GOOS, GOARCH, GOARM, expected ("" = host default)
        { null, null, null, null, null, null, "" },
        { null, null, "[linux/arm64, linux/amd64]", null, null, null, "linux/arm64,linux/amd64" },
        { null, null, "linux/s390x", null, null, null, "linux/s390x" },
        { null, "linux/ppc64le", "linux/s390x", null, null, null, "linux/ppc64le" },
        { "linux/386", "linux/ppc64le", "linux/s390x", null, null, null, "linux/386" },
        { null, null, null, "linux", "arm64", null, "linux/arm64" },
        { null, null, null, null, "arm", "7", "linux/arm/v7" },
    };

    [Theory]
    [MemberData(nameof(PlatformRows))]
    public void Platform_precedence(string? cli, string? envPlatforms, string? yaml, string? goos, string? goarch, string? goarm, string expected)
    {
        var env = new Dictionary<string, string?> { ["KO_DEFAULTPLATFORMS"] = envPlatforms, ["GOOS"] = goos, ["GOARCH"] = goarch, ["GOARM"] = goarm };
        var plan = BuildPlan.Create(Options(yaml is null ? null : $"defaultPlatforms: {yaml}\n", env) with { Platforms = cli is null ? [] : [cli] });
        Assert.Equal(expected, string.Join(",", plan.Platforms));
    }

    [Theory]
    [InlineData("--platform")]
    [InlineData("KO_DEFAULTPLATFORMS")]
    [InlineData("defaultPlatforms")]
    public void Goos_with_any_platform_source_is_KO1104(string source)
    {
        var env = new Dictionary<string, string?> { ["GOOS"] = "linux", ["GOARCH"] = "amd64" };
        if (source == "KO_DEFAULTPLATFORMS")
        {
            env["KO_DEFAULTPLATFORMS"] = "linux/arm64";
        }

        var o = Options(source == "defaultPlatforms" ? "defaultPlatforms: [linux/arm64]\n" : null, env) with { Platforms = source == "--platform" ? ["linux/arm64"] : [] };
        var ex = Assert.Throws<KoException>(() => BuildPlan.Create(o));
        Assert.Equal("KO1104", ex.Code);
        Assert.Contains("GOOS", ex.Message);
        Assert.Contains(source, ex.Message);
    }

    // Row: go build environment: defaults < process environment < build env (else defaultEnv).
    [Fact]
    public async Task Build_env_beats_default_env_which_is_used_without_build_env()
    {
        var o = Options("""
            defaultEnv: [A=default, B=default]
            builds:
            - id: app
              env: [A=build]
            - id: plain
            """);
        Assert.Equal(new Dictionary<string, string?> { ["A"] = "build" }, (await Settings(o, 0)).Environment);
        Assert.Equal(new Dictionary<string, string?> { ["A"] = "default", ["B"] = "default" }, (await Settings(o, 1)).Environment);
        Assert.Equal(new Dictionary<string, string?> { ["A"] = "default", ["B"] = "default" }, (await Settings(o)).Environment);
    }

    // Row: flags: build flags else defaultFlags, then the caller's flags; one string is split on white space.
    [Fact]
    public async Task Flags_precedence()
    {
        var o = Options("""
            defaultFlags: -tags netgo
            builds:
            - flags: [-tags, osusergo]
            - id: none
            """) with { BuildFlags = ["-v"] };
        Assert.Equal(["-tags", "osusergo", "-v"], (await Settings(o, 0)).Flags);
        Assert.Equal(["-tags", "netgo", "-v"], (await Settings(o, 1)).Flags);
    }

    // Row: ldflags: --ldflags else build ldflags else defaultLdflags (string or list), one -ldflags argument.
    [Fact]
    public async Task Ldflags_precedence()
    {
        var yaml = """
            defaultLdflags: -s -w
            builds:
            - ldflags: [-s, "-X main.version={{.Env.VERSION}}"]
            - id: none
            """;
        var o = Options(yaml, new() { ["VERSION"] = "1.2.3" });
        Assert.Equal(["-ldflags=-s -X main.version=1.2.3"], (await Settings(o, 0)).Flags);
        Assert.Equal(["-ldflags=-s -w"], (await Settings(o, 1)).Flags);
        Assert.Equal(["-ldflags=-X main.cli=1"], (await Settings(o with { Ldflags = ["-X main.cli=1"] }, 0)).Flags);
    }

    // Rows: labels/annotations (defaults < build < CLI), user/entrypoint/args (CLI > build > default), imageEnv (default then build).
    [Fact]
    public async Task Image_keys_precedence()
    {
        var o = Options("""
            defaultLabels: {team: core, tier: default}
            defaultAnnotations: {a: default}
            defaultUser: "1000"
            defaultImageEnv: [MODE=default, LOG=info]
            defaultEntrypoint: [/ko-app/default]
            defaultArgs: [--default]
            builds:
            - labels: {tier: build}
              annotations: {a: build, b: "{{.Env.WHO}}"}
              user: nonroot
              imageEnv: {MODE: build}
              entrypoint: [/ko-app/app, --serve]
              args: [--port, "8080"]
            - id: defaults
            """, new() { ["WHO"] = "me" }) with { Labels = new Dictionary<string, string> { ["team"] = "cli" } };

        var build = await Settings(o, 0);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "cli", ["tier"] = "build" }, build.Labels);
        Assert.Equal(new Dictionary<string, string> { ["a"] = "build", ["b"] = "me" }, build.Annotations);
        Assert.Equal("nonroot", build.User);
        Assert.Equal(["MODE=default", "LOG=info", "MODE=build"], build.ImageEnv);
        Assert.Equal(["/ko-app/app", "--serve"], build.Entrypoint);
        Assert.Equal(["--port", "8080"], build.Args);

        var defaults = await Settings(o, 1);
        Assert.Equal(new Dictionary<string, string> { ["team"] = "cli", ["tier"] = "default" }, defaults.Labels);
        Assert.Equal("1000", defaults.User);
        Assert.Equal(["/ko-app/default"], defaults.Entrypoint);
        Assert.Equal(["--default"], defaults.Args);

        Assert.Equal("root", (await Settings(o with { User = "root" }, 0)).User);
    }

    // Rows: KO_DOCKER_REPO, KOCACHE, SOURCE_DATE_EPOCH/KO_DATA_DATE_EPOCH (unchanged by .ko.yaml).
    [Fact]
    public void Environment_only_rows()
    {
        var plan = BuildPlan.Create(Options(null, new() { ["KO_DOCKER_REPO"] = "r.example/x", ["KOCACHE"] = _dir.Combine("c"), ["SOURCE_DATE_EPOCH"] = "100", ["KO_DATA_DATE_EPOCH"] = "200" }));
        Assert.Equal("r.example/x", plan.Repository);
        Assert.Equal(_dir.Combine("c"), plan.CacheDirectory);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(100), plan.CreationTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(200), plan.KodataCreationTime);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(100), plan.TemplateTime);
    }

    // Row: KO_CONFIG_PATH names a file or a directory; else .ko.yaml, else .ko.yml in the working directory.
    [Fact]
    public void Config_file_location()
    {
        _dir.WriteFile(".ko.yml", "defaultBaseImage: scratch\n");
        Assert.Equal("scratch", BuildPlan.Create(Options()).BaseImage);
        _dir.WriteFile(".ko.yaml", "defaultBaseImage: oci:yaml\n");
        Assert.Equal("oci:yaml", BuildPlan.Create(Options()).BaseImage);
        _dir.WriteFile("conf/.ko.yaml", "defaultBaseImage: oci:dir\n");
        Assert.Equal("oci:dir", BuildPlan.Create(Options(null, new() { ["KO_CONFIG_PATH"] = _dir.Combine("conf") })).BaseImage);
        var file = _dir.WriteFile("other.yaml", "defaultBaseImage: oci:file\n");
        Assert.Equal("oci:file", BuildPlan.Create(Options(null, new() { ["KO_CONFIG_PATH"] = file })).BaseImage);
        Assert.Equal("KO1102", Assert.Throws<KoException>(() => BuildPlan.Create(Options(null, new() { ["KO_CONFIG_PATH"] = _dir.Combine("missing") }))).Code);
    }

    [Fact]
    public void Malformed_yaml_is_KO1101_with_file_line_and_column()
    {
        var ex = Assert.Throws<KoException>(() => BuildPlan.Create(Options("defaultBaseImage: scratch\nbuilds:\n  - id: [unclosed\n")));
        Assert.Equal("KO1101", ex.Code);
        Assert.Matches(@"\.ko\.yaml:\d+:\d+: malformed YAML", ex.Message);
    }

    [Theory]
    [InlineData("defaultPlatforms: {a: b}\n", "defaultPlatforms", "1:19")]
    [InlineData("builds:\n- env: {A: [x]}\n", "builds[0].env.A", "2:12")]
    [InlineData("builds: nope\n", "builds", "1:9")]
    [InlineData("defaultEnv: [NOEQUALS]\n", "defaultEnv", "1:13")]
    public void Wrong_type_is_KO1102_naming_key_and_position(string yaml, string key, string position)
    {
        var ex = Assert.Throws<KoException>(() => BuildPlan.Create(Options(yaml)));
        Assert.Equal("KO1102", ex.Code);
        Assert.Contains(key, ex.Message);
        Assert.Contains(".ko.yaml:" + position, ex.Message);
    }

    [Fact]
    public void Unknown_keys_warn_with_the_nearest_known_key()
    {
        var plan = BuildPlan.Create(Options("defaultBaseImg: scratch\nbuilds:\n- ldflag: -s\n  zzzzzzzz: 1\n"));
        Assert.Equal("embedded:static", plan.BaseImage);
        Assert.Equal(3, plan.Warnings.Count);
        Assert.Contains("unknown key 'defaultBaseImg'", plan.Warnings[0]);
        Assert.Contains("did you mean 'defaultBaseImage'", plan.Warnings[0]);
        Assert.Contains("did you mean 'ldflags'", plan.Warnings[1]);
        Assert.DoesNotContain("did you mean", plan.Warnings[2]);
    }

    [Theory]
    [InlineData("defaultFlags: [-toolexec=/bin/sh]\n", null)]
    [InlineData(null, "-toolexec=/bin/sh")]
    public void Toolexec_is_refused_KO1105(string? yaml, string? goflags)
    {
        var ex = Assert.Throws<KoException>(() => BuildPlan.Create(Options(yaml, new() { ["GOFLAGS"] = goflags })));
        Assert.Equal("KO1105", ex.Code);
    }

    [Fact]
    public async Task A_builds_entry_with_toolexec_is_refused_only_when_that_entry_is_built()
    {
        // ko pkg/build/gobuild.go refuses -toolexec in the build step of the import path that uses it.
        var o = Options("builds:\n- id: evil\n  main: ./evil\n  flags: -trimpath --toolexec /bin/sh\n- id: good\n  main: ./good\n  flags: [-trimpath]\n");
        var plan = BuildPlan.Create(o);

        var good = await plan.SettingsAsync(plan.Config.Builds[1], null, Templates(o), CancellationToken.None);
        var ex = await Assert.ThrowsAsync<KoException>(() => plan.SettingsAsync(plan.Config.Builds[0], null, Templates(o), CancellationToken.None));

        Assert.Contains("-trimpath", good.Flags);
        Assert.Equal("KO1105", ex.Code);
        Assert.Contains("builds", ex.Message);
    }

    [Fact]
    public async Task A_scalar_defaultEnv_is_a_white_space_separated_list_as_in_kos_test_data()
    {
        // ko pkg/commands/options/testdata/config/.ko.yaml has "defaultEnv: FOO=bar", read by viper's GetStringSlice.
        var settings = await Settings(Options("defaultEnv: FOO=bar BAZ=qux\n"));

        Assert.Equal("bar", settings.Environment["FOO"]);
        Assert.Equal("qux", settings.Environment["BAZ"]);
        var bad = Assert.Throws<KoException>(() => BuildPlan.Create(Options("defaultEnv: FOO\n")));
        Assert.Equal("KO1102", bad.Code);
    }

    [Theory]
    // ko's e2e (test/) builds ./app/cmd/foo where builds[].dir is the module ./app: the local path is matched to
    // the entry and built in its dir.
    [InlineData("./app/cmd/foo", "app", "./cmd/foo")]
    [InlineData("./caps/cmd", "caps/cmd", ".")]
    public void A_local_path_is_matched_to_the_entry_whose_dir_and_main_name_it(string pattern, string dir, string inDir)
    {
        var o = Options("builds:\n- id: foo\n  dir: ./app\n  main: ./cmd/foo\n- id: caps\n  dir: caps/cmd\n");
        var plan = BuildPlan.Create(o);

        var match = plan.LocalPathEntry(pattern);

        Assert.NotNull(match);
        Assert.Equal(Path.Combine(o.WorkingDirectory!, dir), match.Value.Directory);
        Assert.Equal(inDir, match.Value.Pattern);
        Assert.Null(plan.LocalPathEntry("./app/cmd/bar"));
        Assert.Null(plan.LocalPathEntry("example.com/app/cmd/foo"));
    }

    [Fact]
    public async Task Toolexec_in_build_env_goflags_is_refused()
    {
        var ex = await Assert.ThrowsAsync<KoException>(() => Settings(Options("defaultEnv: [GOFLAGS=-toolexec=x]\n")));
        Assert.Equal("KO1105", ex.Code);
    }

    [Fact]
    public void Unknown_capability_is_KO1102()
    {
        var ex = Assert.Throws<KoException>(() => BuildPlan.Create(Options("builds:\n- linux_capabilities: [CAP_FLY]\n")));
        Assert.Equal("KO1102", ex.Code);
        Assert.Contains("CAP_FLY", ex.Message);
    }

    [Fact]
    public void Capability_xattr_is_vfs_cap_data_revision_2_with_plain_names_permitted_only()
    {
        // ko pkg/caps/caps.go: a plain name adds to the permitted set; the effective flag stays clear.
        var caps = Ko.Engine.Layers.FileCapabilities.Parse(["CAP_NET_BIND_SERVICE", "chown", "cap_bpf"], "test");
        Assert.Equal((1UL << 10) | 1UL | (1UL << 39), caps.Permitted);
        Assert.Equal(
            Convert.FromHexString("00000002" + "01040000" + "00000000" + "80000000" + "00000000"),
            caps.XattrBytes());
    }

    /// <summary>
    /// ko's default name: REPO/&lt;base name&gt;-&lt;md5 of the lower-cased import path&gt;. Vector (from the rule, as ko computes
    /// it): md5("github.com/ko-build/ko/pkg/build") = 951ef9c713ef7ce826f4e024eabdfe3d, checked against the RFC 1321 test
    /// vector md5("abc") below so the function under test is MD5 itself.
    /// </summary>
    [Fact]
    public void Md_5_naming_vector()
    {
        Assert.Equal("900150983cd24fb0d6963f7d28e17f72", Naming.Md5Hex("abc"));
        Assert.Equal("r.example/build-951ef9c713ef7ce826f4e024eabdfe3d", Naming.ImageName("r.example", "github.com/ko-build/ko/pkg/build", NamingStrategy.Md5));
        Assert.Equal("r.example/build-951ef9c713ef7ce826f4e024eabdfe3d", Naming.ImageName("r.example", "GitHub.com/Ko-Build/ko/pkg/build", NamingStrategy.Md5));
    }

    [Fact]
    public void Kodata_link_escaping_the_allowed_root_is_an_error_naming_it()
    {
        _dir.WriteFile("outside/secret.txt", "s");
        _dir.WriteFile("repo/pkg/kodata/ok.txt", "ok");
        _dir.WriteFile("repo/shared/inside.txt", "in");
        File.CreateSymbolicLink(_dir.Combine("repo", "pkg", "kodata", "inside.txt"), _dir.Combine("repo", "shared", "inside.txt"));
        var link = _dir.Combine("repo", "pkg", "kodata", "escape.txt");
        File.CreateSymbolicLink(link, _dir.Combine("outside", "secret.txt"));
        Directory.CreateDirectory(_dir.Combine("repo", ".git"));
        var pkg = _dir.Combine("repo", "pkg");
        var env = new Dictionary<string, string?>();

        var ex = Assert.Throws<KoException>(() => AppLayers.KodataEntries(Path.Combine(pkg, "kodata"), AppLayers.KodataAllowedRoot(pkg, env)));
        Assert.Equal("KO2005", ex.Code);
        Assert.Contains(link, ex.Message);
        Assert.Contains("KO_DATA_PATH_ALLOWED_ROOT", ex.Message);

        File.Delete(link);
        var entries = AppLayers.KodataEntries(Path.Combine(pkg, "kodata"), AppLayers.KodataAllowedRoot(pkg, env));
        Assert.Equal(["inside.txt", "ok.txt"], entries.Select(e => e.RelativePath));

        File.CreateSymbolicLink(link, _dir.Combine("outside", "secret.txt"));
        env["KO_DATA_PATH_ALLOWED_ROOT"] = _dir.Path;
        Assert.Equal(3, AppLayers.KodataEntries(Path.Combine(pkg, "kodata"), AppLayers.KodataAllowedRoot(pkg, env)).Count);
    }
}
