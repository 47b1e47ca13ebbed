using Ko.Engine;
using Ko.Engine.Signing;
using Serilog.Events;
using static Nuke.Ko.KoTasks;

namespace Nuke.Ko.Tests;

/// <summary>
/// Signing as a NUKE target does it, against the real docker-registry: KoBuild with SetSignKey pushes and signs,
/// KoSign appends a second key's signature, KoVerify checks both and fails with KO5006/KO5007 where it must;
/// containers/image (<see cref="CosignCheck"/>) verifies independently; no key or password in any log event.
/// </summary>
public sealed class KoTasksSigningEndToEndTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Secret = "pw-Nuke-Signing-5e0a";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("nuke-ko-sign");
    private readonly string _hello;

    public KoTasksSigningEndToEndTests(RegistryFixture registry)
    {
        _registry = registry;
        _hello = Repo.CopyHello(_dir.Combine("hello"));
        Tools.Require("go");
    }

    public void Dispose() => _dir.Dispose();

    private KoBuildSettings Defaults(KoBuildSettings settings) => settings
        .SetImportPath(".")
        .SetWorkingDirectory(_hello)
        .SetCacheDirectory(_dir.Combine("cache"))
        .SetPlatforms("linux/amd64")
        .SetEnvironmentVariable("KO_DOCKER_REPO", null)
        .SetEnvironmentVariable("KO_SIGN_KEY", null)
        .SetEnvironmentVariable("KO_DEFAULTBASEIMAGE", null)
        .SetEnvironmentVariable("KO_DEFAULTPLATFORMS", null);

    [Fact]
    public async Task KoBuild_with_SetSignKey_and_KoSign_sign_what_KoVerify_and_containers_image_accept_and_KoVerify_rejects_unsigned_and_other_keys()
    {
        var events = InMemorySink.Capture();
        var engine = new KoEngine();
        var keyEnv = new Dictionary<string, string?> { ["KO_SIGN_PASSWORD"] = Secret };
        var release = await engine.GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine("release"), Environment = keyEnv });
        var ci = await engine.GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine("ci"), Environment = keyEnv });
        var other = await engine.GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine("other"), Environment = keyEnv });
        var repository = $"{_registry.Host}/nukesign";

        var image = Assert.Single(KoBuild(_ => Defaults(_).SetRepository(repository).SetSignKey(release.PrivateKeyPath).SetSignAnnotation("pipeline", "nuke").SetEnvironmentVariable("KO_SIGN_PASSWORD", Secret)).Images);
        var signed = KoSign(_ => _.SetReferences(image.Reference).SetKey(ci.PrivateKeyPath).SetPassword(Secret).SetEnvironmentVariable("KO_SIGN_PASSWORD", null));
        Assert.Equal($"{image.Name}:sha256-{image.Digest["sha256:".Length..]}.sig", Assert.Single(signed.Signatures).Reference);
        foreach (var pub in new[] { release.PublicKeyPath, ci.PublicKeyPath })
        {
            var verified = KoVerify(_ => _.SetReferences(image.Reference).SetKey(pub));
            Assert.Equal((image.Digest, 1), (Assert.Single(verified.Images).Digest, verified.Images[0].Signatures));
        }

        var regd = _dir.Combine("registries.d");
        Directory.CreateDirectory(regd);
        await File.WriteAllTextAsync(Path.Combine(regd, "default.yaml"), $"docker:\n  {_registry.Host}:\n    use-sigstore-attachments: true\n");
        Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", release.PublicKeyPath, $"docker://{image.Name}:latest", regd));
        Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", ci.PublicKeyPath, $"docker://{image.Name}:latest", regd));
        Assert.Equal(1, (await CosignCheck.RunAsync("verify", other.PublicKeyPath, $"docker://{image.Name}:latest", regd)).ExitCode);

        var wrongKey = Assert.Throws<KoTaskException>(() => KoVerify(_ => _.SetReferences(image.Reference).SetKey(other.PublicKeyPath)));
        Assert.Equal("KO5007", wrongKey.Code);
        var unsigned = Assert.Single(KoBuild(_ => Defaults(_).SetRepository(repository + "/unsigned")).Images);
        var none = Assert.Throws<KoTaskException>(() => KoVerify(_ => _.SetReferences(unsigned.Reference).SetKey(release.PublicKeyPath)));
        Assert.Equal("KO5006", none.Code);
        Assert.Equal("KO1004", Assert.Throws<KoTaskException>(() => KoVerify(_ => _.SetReferences(unsigned.Reference))).Code);

        var keyLines = new[] { release, ci, other }.SelectMany(k => File.ReadAllLines(k.PrivateKeyPath)).Where(l => !l.StartsWith("-----", StringComparison.Ordinal));
        var logged = string.Join("\n", InMemorySink.Snapshot(events).Select(e => e.RenderMessage() + " " + string.Join(" ", e.Properties.Values)));
        Assert.Contains("\"KoSign\" with \"KoSignSettings {", logged, StringComparison.Ordinal); // the settings line, password masked
        foreach (var secret in keyLines.Prepend(Secret))
        {
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }

        Assert.DoesNotContain(Secret, new KoSignSettings().SetPassword(Secret).ToString(), StringComparison.Ordinal);
        Assert.Contains(events, e => e.Level == LogEventLevel.Information && e.RenderMessage().Contains("Signed", StringComparison.Ordinal));
    }
}
