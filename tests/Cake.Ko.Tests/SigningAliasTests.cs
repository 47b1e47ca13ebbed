using Cake.Core;
using Cake.Core.Diagnostics;

namespace Cake.Ko.Tests;

/// <summary>The signing aliases' mapping and failures, without a registry (the end-to-end run is <see cref="CakeSigningScriptTests"/>).</summary>
public sealed class SigningAliasTests : IDisposable
{
    private const string Password = "pw-Cake-Alias-3c9f";
    private readonly string _dir = Directory.CreateTempSubdirectory("cake-ko-sign-alias-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private FakeCakeContext Context(FakeCakeLog log) =>
        new(new FakeCakeEnvironment(_dir, new Dictionary<string, string> { ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") ?? string.Empty }), log);

    [Fact]
    public void KoGenerateKey_writes_the_pair_in_the_cake_working_directory_and_KoSign_resolves_a_relative_key_there()
    {
        var log = new FakeCakeLog(Verbosity.Diagnostic);
        var context = Context(log);
        var pub = context.KoGenerateKey("release", Password);
        Assert.Equal(Path.Combine(_dir, "release.pub"), pub);
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", File.ReadAllText(Path.Combine(_dir, "release.key")), StringComparison.Ordinal);

        // A relative key that is not there: the engine names the file under the Cake working directory (KO5001).
        var missing = Assert.Throws<CakeException>(() => context.KoSign(["127.0.0.1:1/app:latest"], new KoSignSettings { Key = "missing.key", Password = Password }));
        Assert.StartsWith("KO5001: ", missing.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(_dir, "missing.key"), missing.Message, StringComparison.Ordinal);

        // The wrong password for the real key: KO5002, and the password is nowhere.
        var wrong = Assert.Throws<CakeException>(() => context.KoSign(["127.0.0.1:1/app:latest"], new KoSignSettings { Key = "release.key", Password = "not-" + Password }));
        Assert.StartsWith("KO5002: ", wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, wrong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(log.Lines, l => l.Text.Contains(Password, StringComparison.Ordinal));
        Assert.DoesNotContain(Password, new KoSignSettings { Password = Password }.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void KoVerify_without_a_key_or_with_a_private_key_as_the_public_one_fails_with_its_KO_code()
    {
        var context = Context(new FakeCakeLog(Verbosity.Normal));
        var none = Assert.Throws<CakeException>(() => context.KoVerify(["127.0.0.1:1/app:latest"], new KoVerifySettings()));
        Assert.StartsWith("KO1004: ", none.Message, StringComparison.Ordinal);
        context.KoGenerateKey("k", Password);
        var privateAsPublic = Assert.Throws<CakeException>(() => context.KoVerify(["127.0.0.1:1/app:latest"], new KoVerifySettings { Key = "k.key" }));
        Assert.StartsWith("KO5003: ", privateAsPublic.Message, StringComparison.Ordinal);
    }
}
