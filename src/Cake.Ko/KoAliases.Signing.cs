using Cake.Core;
using Cake.Core.Annotations;
using Cake.Core.Diagnostics;
using Ko.Engine;
using Ko.Engine.Signing;

namespace Cake.Ko;

public static partial class KoAliases
{
    /// <summary>
    /// Signs images already in a registry in cosign's format (<c>dotnet ko sign</c>); to sign what a build pushes, set
    /// <see cref="KoBuildSettings.SignKey"/> instead.
    /// </summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="references">The images, by tag or digest.</param>
    /// <param name="settings">The key (and its password) and what to sign.</param>
    /// <returns>The signature (and attestation) manifests, <c>name:sha256-&lt;hex&gt;.sig</c>.</returns>
    /// <exception cref="CakeException">KO5001/KO5002 for the key, KO5010 for a signature tag that is not cosign's, KO5013 with nothing to attest, or a registry failure.</exception>
    /// <example><code>KoSign(new[] { image.Reference }, new KoSignSettings { Key = "cosign.key", Recursive = true });</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Signing")]
    public static IReadOnlyList<string> KoSign(this ICakeContext context, IEnumerable<string> references, KoSignSettings settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(settings);
        var password = settings.Password;
        var result = Run(context, (engine, options) => engine.SignAsync(options), () => new KoSignOptions
        {
            References = references.ToList(),
            Key = settings.Key?.MakeAbsolute(context.Environment).FullPath,
            Password = password is null ? null : _ => ValueTask.FromResult<string?>(password),
            Annotations = new Dictionary<string, string>(settings.SignAnnotations, StringComparer.Ordinal),
            Recursive = settings.Recursive,
            AttestSbom = settings.AttestSbom,
            InsecureRegistry = settings.InsecureRegistry,
            WorkingDirectory = context.Environment.WorkingDirectory.FullPath,
            Environment = KoSettingsMapper.EnvironmentOf(context.Environment, settings.EnvironmentVariables),
        });
        return result.Signatures.Select(s => s.Reference).ToList();
    }

    /// <summary>
    /// Verifies the cosign signatures of images in a registry with a public key (<c>dotnet ko verify</c>): fails the task
    /// when an image has no signature made with the key for its digest and repository.
    /// </summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="references">The images, by tag or digest.</param>
    /// <param name="settings">The public key and whether attestations are required.</param>
    /// <returns>The verified images, <c>name@sha256:…</c>.</returns>
    /// <exception cref="CakeException">KO5006 no signature, KO5007 wrong key, KO5008 digest, KO5009 repository, KO5011/KO5012 attestations.</exception>
    /// <example><code>KoVerify(new[] { image.Reference }, new KoVerifySettings { Key = "cosign.pub" });</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Signing")]
    public static IReadOnlyList<string> KoVerify(this ICakeContext context, IEnumerable<string> references, KoVerifySettings settings)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(references);
        ArgumentNullException.ThrowIfNull(settings);
        var result = Run(context, (engine, options) => engine.VerifyAsync(options), () => new KoVerifyOptions
        {
            References = references.ToList(),
            Key = settings.Key?.MakeAbsolute(context.Environment).FullPath
                ?? throw new CakeException($"{KoErrorCodes.InvalidOption}: KoVerifySettings.Key is not set: name the public key file (e.g. cosign.pub)."),
            Attestations = settings.Attestations,
            InsecureRegistry = settings.InsecureRegistry,
            WorkingDirectory = context.Environment.WorkingDirectory.FullPath,
            Environment = KoSettingsMapper.EnvironmentOf(context.Environment, settings.EnvironmentVariables),
        });
        return result.Images.Select(i => i.Reference).ToList();
    }

    /// <summary>Writes a new key pair in cosign's format (<c>dotnet ko generate-key</c>): <c>PREFIX.key</c> (encrypted) and <c>PREFIX.pub</c>.</summary>
    /// <param name="context">The Cake context.</param>
    /// <param name="prefix">The path prefix, e.g. <c>cosign</c> for <c>cosign.key</c> and <c>cosign.pub</c>.</param>
    /// <param name="password">The password that encrypts the private key when <c>KO_SIGN_PASSWORD</c> is not set (that variable wins). Never logged.</param>
    /// <returns>The public key's path.</returns>
    /// <exception cref="CakeException">KO5004 when a file is there already, KO5002 without a password.</exception>
    /// <example><code>var publicKey = KoGenerateKey("./keys/release", EnvironmentVariable("SIGN_PASSWORD"));</code></example>
    [CakeMethodAlias]
    [CakeAliasCategory("Signing")]
    public static string KoGenerateKey(this ICakeContext context, string prefix, string? password = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        var pair = Run(context, (engine, options) => engine.GenerateKeyAsync(options), () => new KoGenerateKeyOptions
        {
            OutputKeyPrefix = prefix,
            Password = password is null ? null : _ => ValueTask.FromResult<string?>(password),
            WorkingDirectory = context.Environment.WorkingDirectory.FullPath,
            Environment = KoSettingsMapper.EnvironmentOf(context.Environment, new Dictionary<string, string?>()),
        });
        context.Log.Write(Verbosity.Normal, LogLevel.Information, "{0}", $"ko: wrote {pair.PrivateKeyPath} and {pair.PublicKeyPath}");
        return pair.PublicKeyPath;
    }
}
