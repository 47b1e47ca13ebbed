using System.Text;
using Ko.Engine.Signing;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The public signing API (<see cref="KoEngine.GenerateKeyAsync"/>, <see cref="KoEngine.SignAsync"/>,
/// <see cref="KoEngine.VerifyAsync"/>), as Cake, NUKE and other hosts call it, against the real docker-registry, with
/// containers/image (<see cref="CosignCheck"/>) as the independent verifier; no key or password in any log line.
/// </summary>
public sealed class SigningFacadeTests : IClassFixture<RegistryFixture>, IDisposable
{
    private const string Password = "pw-Facade-Test-93ab";
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-sign-facade");
    private readonly RecordingLogger _log = new();

    public SigningFacadeTests(RegistryFixture registry) => _registry = registry;

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_engine_generates_a_key_signs_an_index_recursively_and_verifies_and_containers_image_accepts_the_signatures()
    {
        var engine = new KoEngine(_log);
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_SIGN_PASSWORD"] = null, ["KO_SIGN_KEY"] = null });
        var asked = 0;
        var pair = await engine.GenerateKeyAsync(new KoGenerateKeyOptions
        {
            OutputKeyPrefix = "facade",
            WorkingDirectory = _dir.Path,
            Environment = env,
            Password = _ => { asked++; return ValueTask.FromResult<string?>(Password); },
        });
        Assert.Equal((_dir.Combine("facade.key"), _dir.Combine("facade.pub"), 1), (pair.PrivateKeyPath, pair.PublicKeyPath, asked));
        Assert.StartsWith("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", await File.ReadAllTextAsync(pair.PrivateKeyPath));

        var src = Repo.CopyHello(_dir.Combine("hello"));
        var build = await engine.BuildAsync(new Ko.Engine.Configuration.KoBuildOptions
        {
            ImportPaths = ["."],
            WorkingDirectory = src,
            Platforms = ["linux/amd64", "linux/arm64"],
            Sbom = Ko.Engine.Sbom.SbomFormat.None,
            Environment = new Dictionary<string, string?>(env) { ["KO_DOCKER_REPO"] = $"{_registry.Host}/facade" },
        });
        var image = Assert.Single(build.Images);
        var name = image.Name;

        var unsigned = await Assert.ThrowsAsync<KoException>(() => engine.VerifyAsync(new KoVerifyOptions { References = [name + ":latest"], Key = "facade.pub", WorkingDirectory = _dir.Path, Environment = env }));
        Assert.Equal(KoErrorCodes.NoSignature, unsigned.Code);

        var signed = await engine.SignAsync(new KoSignOptions
        {
            References = [name + ":latest"],
            Key = "facade.key",
            WorkingDirectory = _dir.Path,
            Recursive = true,
            Annotations = new Dictionary<string, string> { ["team"] = "core" },
            Environment = env,
            Password = _ => { asked++; return ValueTask.FromResult<string?>(Password); },
        });
        Assert.Equal(2, asked);
        Assert.Equal(3, signed.Signatures.Count); // the index, then both platform images
        Assert.All(signed.Signatures, s => Assert.False(s.Attestation || s.AlreadyPresent));
        Assert.Equal($"{name}:sha256-{image.Digest.Hex}.sig", signed.Signatures[0].Reference);

        var regd = _dir.Combine("registries.d");
        Directory.CreateDirectory(regd);
        await File.WriteAllTextAsync(Path.Combine(regd, "default.yaml"), $"docker:\n  {_registry.Host}:\n    use-sigstore-attachments: true\n");
        foreach (var s in signed.Signatures)
        {
            Assert.Equal((0, "accepted"), await CosignCheck.RunAsync("verify", pair.PublicKeyPath, $"docker://{name}@{s.Subject}", regd));
        }

        var verified = await engine.VerifyAsync(new KoVerifyOptions { References = [.. signed.Signatures.Select(s => $"{name}@{s.Subject}")], Key = pair.PublicKeyPath, Environment = env });
        Assert.Equal(signed.Signatures.Select(s => (name, s.Subject, 1)), verified.Images.Select(i => (i.Name, i.Digest, i.Signatures)));

        // Again: nothing new is written, and the outcome says so.
        var again = await engine.SignAsync(new KoSignOptions { References = [name + ":latest"], Key = pair.PrivateKeyPath, Annotations = new Dictionary<string, string> { ["team"] = "core" }, Environment = new Dictionary<string, string?>(env) { ["KO_SIGN_PASSWORD"] = Password } });
        Assert.True(Assert.Single(again.Signatures).AlreadyPresent);

        var keyBody = File.ReadAllLines(pair.PrivateKeyPath).Where(l => !l.StartsWith("-----", StringComparison.Ordinal));
        foreach (var secret in keyBody.Prepend(Password))
        {
            Assert.DoesNotContain(secret, _log.Text);
        }
    }

    [Fact]
    public async Task A_missing_password_or_a_wrong_key_fails_with_its_KO_code_and_leaves_no_key_file()
    {
        var engine = new KoEngine(_log);
        var env = Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?> { ["KO_SIGN_PASSWORD"] = null });
        var none = await Assert.ThrowsAsync<KoException>(() => engine.GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine("none"), Environment = env }));
        Assert.Equal(KoErrorCodes.SigningKeyPassword, none.Code);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir.Path));

        // KO_SIGN_PASSWORD wins over the caller's source, which is then never asked.
        var pair = await engine.GenerateKeyAsync(new KoGenerateKeyOptions
        {
            OutputKeyPrefix = _dir.Combine("env"),
            Environment = new Dictionary<string, string?>(env) { ["KO_SIGN_PASSWORD"] = Password },
            Password = _ => throw new InvalidOperationException("asked although KO_SIGN_PASSWORD is set"),
        });
        var exists = await Assert.ThrowsAsync<KoException>(() => engine.GenerateKeyAsync(new KoGenerateKeyOptions { OutputKeyPrefix = _dir.Combine("env"), Environment = env }));
        Assert.Equal(KoErrorCodes.KeyFileExists, exists.Code);

        var wrong = await Assert.ThrowsAsync<KoException>(() => engine.SignAsync(new KoSignOptions
        {
            References = [$"{_registry.Host}/facade/absent:latest"],
            Key = pair.PrivateKeyPath,
            Environment = new Dictionary<string, string?>(env) { ["KO_SIGN_PASSWORD"] = "not-" + Password },
        }));
        Assert.Equal(KoErrorCodes.SigningKeyPassword, wrong.Code);
        Assert.DoesNotContain(Password, wrong.Message);
        var pubAsPrivate = await Assert.ThrowsAsync<KoException>(() => engine.VerifyAsync(new KoVerifyOptions { References = [$"{_registry.Host}/facade/absent:latest"], Key = pair.PrivateKeyPath, Environment = env }));
        Assert.Equal(KoErrorCodes.PublicKeyUnreadable, pubAsPrivate.Code);
        Assert.DoesNotContain(Password, _log.Text);
    }

    /// <summary>Every log line, formatted, with its arguments.</summary>
    private sealed class RecordingLogger : ILogger
    {
        private readonly StringBuilder _text = new();

        public string Text
        {
            get
            {
                lock (_text)
                {
                    return _text.ToString();
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_text)
            {
                _text.AppendLine(formatter(state, exception)).AppendLine(exception?.ToString());
            }
        }
    }
}
