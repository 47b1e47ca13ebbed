using System.Reflection;
using Cake.Core.Diagnostics;
using Cake.Core.IO;
using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;
using Ko.Engine.Sbom;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Cake.Ko.Tests;

/// <summary>Every Cake setting reaches the engine's options (one row per property), paths resolve against Cake's working directory.</summary>
public sealed class SettingsMappingTests
{
    private const string Work = "/cake/work";

    private static FakeCakeEnvironment Env(IDictionary<string, string>? vars = null) =>
        new(Work, vars ?? new Dictionary<string, string> { ["KO_DOCKER_REPO"] = "from-cake-context", ["PATH"] = "/usr/bin" });

    /// <summary>Property name, how the row sets it, what the engine must see.</summary>
    public static readonly (string Property, Action<KoBuildSettings> Set, Action<KoBuildOptions> Check)[] BuildRows =
    [
        ("Repository", s => s.Repository = "registry.example/team", o => Assert.Equal("registry.example/team", o.Repository)),
        ("Platforms", s => s.Platforms.Add("linux/arm64"), o => Assert.Equal(["linux/arm64"], o.Platforms)),
        ("Tags", s => s.Tags = ["v1", "latest"], o => Assert.Equal(["v1", "latest"], o.Tags)),
        ("Push", s => s.Push = false, o => Assert.False(o.Push)),
        ("BaseImage", s => s.BaseImage = "scratch", o => Assert.Equal("scratch", o.BaseImage)),
        ("OciLayoutPath", s => s.OciLayoutPath = "out/layout", o => Assert.Equal($"{Work}/out/layout", o.OciLayoutPath)),
        ("OciArchivePath", s => s.OciArchivePath = "out/a.tar", o => Assert.Equal($"{Work}/out/a.tar", o.OciArchivePath)),
        ("TarballPath", s => s.TarballPath = "/abs/d.tar", o => Assert.Equal("/abs/d.tar", o.TarballPath)),
        ("ImageRefsPath", s => s.ImageRefsPath = "refs.txt", o => Assert.Equal($"{Work}/refs.txt", o.ImageRefsPath)),
        ("Sbom", s => s.Sbom = KoSbomFormat.CycloneDx, o => Assert.Equal(SbomFormat.CycloneDx, o.Sbom)),
        ("SbomDirectory", s => s.SbomDirectory = "out/sbom", o => Assert.Equal($"{Work}/out/sbom", o.SbomDirectory)),
        ("SbomAttach", s => s.SbomAttach = KoSbomAttachment.Tag, o => Assert.Equal(SbomAttachment.Tag, o.SbomAttach)),
        ("WorkingDirectory", s => s.WorkingDirectory = "src/app", o => Assert.Equal($"{Work}/src/app", o.WorkingDirectory)),
        ("Jobs", s => s.Jobs = 3, o => Assert.Equal(3, o.Jobs)),
        ("Bare", s => s.Bare = true, o => Assert.Equal(NamingStrategy.Bare, o.Naming)),
        ("PreserveImportPaths", s => s.PreserveImportPaths = true, o => Assert.Equal(NamingStrategy.PreserveImportPath, o.Naming)),
        ("BaseImportPaths", s => s.BaseImportPaths = true, o => Assert.Equal(NamingStrategy.BaseImportPath, o.Naming)),
        ("TagOnly", s => s.TagOnly = true, o => Assert.True(o.TagOnly)),
        ("Local", s => s.Local = true, o => Assert.True(o.Local)),
        ("InsecureRegistry", s => s.InsecureRegistry = true, o => Assert.True(o.InsecureRegistry)),
        ("Labels", s => s.Labels["org.example/team"] = "a", o => Assert.Equal("a", o.Labels["org.example/team"])),
        ("Annotations", s => s.Annotations["note"] = "b", o => Assert.Equal("b", o.Annotations["note"])),
        ("User", s => s.User = "1000:1000", o => Assert.Equal("1000:1000", o.User)),
        ("Ldflags", s => s.Ldflags.Add("-X main.version=1.2.3"), o => Assert.Equal(["-X main.version=1.2.3"], o.Ldflags)),
        ("BuildFlags", s => s.BuildFlags.Add("-tags=netgo"), o => Assert.Equal(["-tags=netgo"], o.BuildFlags)),
        ("CacheDirectory", s => s.CacheDirectory = ".cache/ko", o => Assert.Equal($"{Work}/.cache/ko", o.CacheDirectory)),
        ("EnvironmentVariables", s => s.EnvironmentVariables["GOFLAGS"] = "-mod=vendor", o => Assert.Equal("-mod=vendor", o.Environment!["GOFLAGS"])),
        ("SignKey", s => s.SignKey = "keys/cosign.key", o => Assert.Equal($"{Work}/keys/cosign.key", o.SignKey)),
        ("SignAnnotations", s => s.SignAnnotations["team"] = "core", o => Assert.Equal("core", o.SignAnnotations["team"])),
        ("AttestSbom", s => s.AttestSbom = true, o => Assert.True(o.AttestSbom)),
        ("Compression", s => s.Compression = KoLayerCompression.Zstd, o => Assert.Equal(global::Ko.Engine.Layers.LayerCompression.Zstd, o.Compression)),
        ("BuildRecordPath", s => s.BuildRecordPath = "out/record.json", o => Assert.Equal($"{Work}/out/record.json", o.BuildRecordPath)),
    ];

    public static TheoryData<string> BuildProperties() => [.. BuildRows.Select(r => r.Property)];

    [Theory]
    [MemberData(nameof(BuildProperties))]
    public void Each_build_setting_reaches_the_engine(string property)
    {
        var row = BuildRows.Single(r => r.Property == property);
        var defaults = KoSettingsMapper.ToBuildOptions(new KoBuildSettings(), ["./cmd/app"], Env());
        var settings = new KoBuildSettings();
        row.Set(settings);
        var options = KoSettingsMapper.ToBuildOptions(settings, ["./cmd/app"], Env());
        row.Check(options);
        Assert.ThrowsAny<Exception>(() => row.Check(defaults)); // the row really tests a change
    }

    [Fact]
    public void KoResolve_takes_the_images_from_the_build_result_or_reads_the_record_and_writes_none()
    {
        var digest = global::Ko.Engine.Oci.Digest.Parse("sha256:" + new string('a', 64));
        var engine = new KoImageResult("example.com/hello", "reg.example/hello", $"reg.example/hello@{digest}", digest, "application/vnd.oci.image.manifest.v1+json", [global::Ko.Engine.Oci.Platform.Parse("linux/amd64")], ["latest"]);
        var built = new KoBuildResult([KoAliases.ToImage(engine)]);

        var options = KoSettingsMapper.ToResolveOptions(new KoResolveSettings { Images = built, BuildRecordPath = "record.json" }, [new FilePath("k8s")], Env());

        Assert.Same(engine, Assert.Single(options.Images!.Images));
        Assert.Equal($"{Work}/record.json", options.BuildRecordPath);
        Assert.Null(options.Build.BuildRecordPath); // resolve reads the record; it never overwrites it
    }

    [Fact]
    public void KoResolve_images_made_by_hand_with_a_bad_digest_are_refused_naming_it()
    {
        var handMade = new KoBuildResult([new KoImage("example.com/hello", "reg.example/hello", "reg.example/hello:latest", "sha256:nope", "application/vnd.oci.image.manifest.v1+json", ["linux/amd64"], ["latest"])]);

        var ex = Assert.Throws<ArgumentException>(() => KoSettingsMapper.ToResolveOptions(new KoResolveSettings { Images = handMade }, [new FilePath("k8s")], Env()));

        Assert.Contains("'sha256:nope' of example.com/hello is not a digest", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_public_setting_has_a_row()
    {
        var properties = typeof(KoBuildSettings).GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => p.Name).Order();
        Assert.Equal(properties, BuildRows.Select(r => r.Property).Order());
    }

    [Fact]
    public void Defaults_follow_the_engine_and_the_cake_context()
    {
        var options = KoSettingsMapper.ToBuildOptions(new KoBuildSettings(), ["./cmd/app", "ko://example.com/x"], Env());
        Assert.Equal(["./cmd/app", "ko://example.com/x"], options.ImportPaths);
        Assert.Equal(Work, options.WorkingDirectory); // Cake's working directory, not the process's
        Assert.True(options.Push);
        Assert.Null(options.Repository); // KO_DOCKER_REPO comes through the environment
        Assert.Equal(NamingStrategy.Md5, options.Naming);
        Assert.Empty(options.Platforms);
        Assert.Equal(0, options.Jobs);
    }

    [Fact]
    public void The_environment_is_the_cake_contexts_with_the_calls_changes()
    {
        var settings = new KoBuildSettings().WithEnvironmentVariable("PATH", null).WithEnvironmentVariable("KO_DEFAULTBASEIMAGE", "scratch");
        var env = KoSettingsMapper.ToBuildOptions(settings, ["."], Env()).Environment!;
        Assert.Equal("from-cake-context", env["KO_DOCKER_REPO"]);
        Assert.Equal("scratch", env["KO_DEFAULTBASEIMAGE"]);
        Assert.False(env.ContainsKey("PATH"));
        Assert.False(env.ContainsKey("HOME")); // nothing of the process's environment leaks in
    }

    [Fact]
    public void Every_sbom_value_maps_to_the_engines_value_of_the_same_name()
    {
        Assert.Equal(Enum.GetNames<SbomFormat>(), Enum.GetNames<KoSbomFormat>());
        Assert.Equal(Enum.GetNames<SbomAttachment>(), Enum.GetNames<KoSbomAttachment>());
        Assert.All(Enum.GetValues<KoSbomFormat>(), v => Assert.Equal(v.ToString(), KoSettingsMapper.SbomOf(v).ToString()));
        Assert.All(Enum.GetValues<KoSbomAttachment>(), v => Assert.Equal(v.ToString(), KoSettingsMapper.SbomAttachOf(v).ToString()));
        Assert.Null(KoSettingsMapper.SbomOf(null));
        Assert.Equal(SbomAttachment.Referrers, KoSettingsMapper.ToBuildOptions(new KoBuildSettings(), ["."], Env()).SbomAttach);
    }

    [Fact]
    public void Naming_precedence_is_the_clis()
    {
        // The engine's one rule, as ko's MakeNamer (pkg/commands/options/publish.go): -P, then -B, then --bare.
        Assert.Equal(NamingStrategy.PreserveImportPath, KoSettingsMapper.NamingOf(new KoBuildSettings { Bare = true, PreserveImportPaths = true, BaseImportPaths = true }));
        Assert.Equal(NamingStrategy.PreserveImportPath, KoSettingsMapper.NamingOf(new KoBuildSettings { PreserveImportPaths = true, BaseImportPaths = true }));
        Assert.Equal(NamingStrategy.BaseImportPath, KoSettingsMapper.NamingOf(new KoBuildSettings { Bare = true, BaseImportPaths = true }));
        Assert.Contains("Bare is ignored", KoSettingsMapper.NamingWarning(new KoBuildSettings { Bare = true, BaseImportPaths = true }));
        Assert.Null(KoSettingsMapper.NamingWarning(new KoBuildSettings { Bare = true }));
    }

    [Fact]
    public void Fluent_helpers_set_the_same_properties()
    {
        var s = new KoApplySettings()
            .SetRepository("r").WithPlatform("linux/amd64", "linux/arm64").WithTag("v1").SetPush(false).SetBaseImage("scratch")
            .SetOciLayoutPath("l").SetOciArchivePath("a.tar").SetTarballPath("d.tar").SetImageRefsPath("refs").SetWorkingDirectory("w")
            .SetJobs(2).SetBare().SetPreserveImportPaths().SetBaseImportPaths().SetTagOnly().SetLocal().SetInsecureRegistry()
            .WithLabel("k", "v").WithAnnotation("a", "b").SetUser("u").WithLdflags("-s").WithBuildFlags("-v").SetCacheDirectory("c")
            .WithEnvironmentVariable("X", "1").SetRecursive().SetSelector("app=x").SetOutputPath("out.yaml")
            .SetSbom(KoSbomFormat.None).SetSbomDirectory("sb").SetSbomAttach(KoSbomAttachment.Tag)
            .SetKubeconfig("kc").SetContext("ctx").SetNamespace("ns").SetForceConflicts().SetContinueOnError().SetUseKubectl().WithKubectlArguments("--dry-run=server");
        Assert.Equal("r", s.Repository);
        Assert.Equal(["linux/amd64", "linux/arm64"], s.Platforms);
        Assert.Equal(["v1"], s.Tags);
        Assert.False(s.Push);
        Assert.True(s.Bare && s.PreserveImportPaths && s.BaseImportPaths && s.TagOnly && s.Local && s.InsecureRegistry && s.Recursive && s.ForceConflicts && s.ContinueOnError && s.UseKubectl);
        Assert.Equal((KoSbomFormat.None, "sb", KoSbomAttachment.Tag), (s.Sbom, s.SbomDirectory?.FullPath, s.SbomAttach));
        Assert.Equal("ctx", s.Context);
        Assert.Equal(["--dry-run=server"], s.KubectlArguments);
    }

    [Fact]
    public void Resolve_and_apply_settings_reach_the_engine()
    {
        var s = new KoApplySettings
        {
            Repository = "reg/team",
            Recursive = true,
            Selector = "app=hello",
            OutputPath = "out/resolved.yaml",
            Kubeconfig = "kube/config",
            Context = "kind",
            Namespace = "apps",
            ForceConflicts = true,
            ContinueOnError = true,
            UseKubectl = true,
            KubectlArguments = { "--dry-run=server" },
        };
        var o = KoSettingsMapper.ToApplyOptions(s, ["k8s", "/abs/x.yaml"], Env());
        Assert.Equal([$"{Work}/k8s", "/abs/x.yaml"], o.Resolve.Files);
        Assert.True(o.Resolve.Recursive);
        Assert.Equal("app=hello", o.Resolve.Selector);
        Assert.Equal($"{Work}/out/resolved.yaml", o.Resolve.OutputPath);
        Assert.Equal("reg/team", o.Resolve.Build.Repository);
        Assert.Empty(o.Resolve.Build.ImportPaths);
        Assert.Equal($"{Work}/kube/config", o.Kubeconfig);
        Assert.Equal("kind", o.Context);
        Assert.Equal("apps", o.Namespace);
        Assert.True(o.ForceConflicts);
        Assert.True(o.ContinueOnError);
        Assert.True(o.UseKubectl);
        Assert.Equal(["--dry-run=server"], o.KubectlArguments);
    }

    [Fact]
    public void Delete_and_login_settings_reach_the_engine()
    {
        var d = KoSettingsMapper.ToDeleteOptions(
            new KoDeleteSettings { Recursive = true, Selector = "a=b", Kubeconfig = "kc", Context = "c", Namespace = "n", IgnoreNotFound = false, EnvironmentVariables = { ["KUBECONFIG"] = "/x" } },
            ["k8s"],
            Env());
        Assert.Equal([$"{Work}/k8s"], d.Files);
        Assert.True(d.Recursive);
        Assert.Equal("a=b", d.Selector);
        Assert.Equal($"{Work}/kc", d.Kubeconfig);
        Assert.Equal("c", d.Context);
        Assert.Equal("n", d.Namespace);
        Assert.False(d.IgnoreNotFound);
        Assert.Equal("/x", d.Environment!["KUBECONFIG"]);

        var l = KoSettingsMapper.ToLoginOptions("reg.example:5000", new KoLoginSettings { Username = "u", Password = "p", InsecureRegistry = true, EnvironmentVariables = { ["DOCKER_CONFIG"] = "/d" } }, Env());
        Assert.Equal(("reg.example:5000", "u", "p", true), (l.Registry, l.Username, l.Password, l.InsecureRegistry));
        Assert.Equal("/d", l.Environment!["DOCKER_CONFIG"]);
        Assert.DoesNotContain("p,", new KoLoginSettings { Username = "u", Password = "p" }.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(MsLogLevel.Trace, Verbosity.Diagnostic, LogLevel.Debug)]
    [InlineData(MsLogLevel.Debug, Verbosity.Verbose, LogLevel.Verbose)]
    [InlineData(MsLogLevel.Information, Verbosity.Normal, LogLevel.Information)]
    [InlineData(MsLogLevel.Warning, Verbosity.Minimal, LogLevel.Warning)]
    [InlineData(MsLogLevel.Error, Verbosity.Quiet, LogLevel.Error)]
    public void Engine_log_levels_map_to_cake_verbosity(MsLogLevel level, Verbosity verbosity, LogLevel cakeLevel) =>
        Assert.Equal((verbosity, cakeLevel), CakeKoLogger.Map(level));

    [Fact]
    public void The_logger_honours_cakes_verbosity_and_keeps_braces()
    {
        var log = new FakeCakeLog(Verbosity.Normal);
        Microsoft.Extensions.Logging.ILogger logger = new CakeKoLogger(log);
        Microsoft.Extensions.Logging.LoggerExtensions.LogDebug(logger, "hidden {X}", 1);
        Microsoft.Extensions.Logging.LoggerExtensions.LogInformation(logger, "Pushed {Ref} {{literal}}", "r@sha256:1");
        Assert.Equal([(Verbosity.Normal, LogLevel.Information, "Pushed r@sha256:1 {literal}")], log.Lines);
    }

    [Fact]
    public void Engine_errors_become_cake_exceptions_with_the_code()
    {
        var dir = Directory.CreateTempSubdirectory("cake-ko-unit-");
        var context = new FakeCakeContext(new FakeCakeEnvironment(dir.FullName, new Dictionary<string, string>()), new FakeCakeLog(Verbosity.Normal));
        var e = Assert.Throws<Cake.Core.CakeException>(() => context.KoBuild("./cmd/app", new KoBuildSettings { Platforms = { "plan9/nonsense-arch" }, Push = false }));
        Assert.StartsWith("KO1001: ", e.Message, StringComparison.Ordinal);
        Assert.IsType<KoException>(e.InnerException);
        dir.Delete(recursive: true);
    }
}
