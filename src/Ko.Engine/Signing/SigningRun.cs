using Ko.Engine.Configuration;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Signing;

/// <summary>
/// What <see cref="KoEngine.GenerateKeyAsync"/>, <see cref="KoEngine.SignAsync"/> and <see cref="KoEngine.VerifyAsync"/>
/// do: key files, loading keys with the password from the environment or the caller, and the registry work of
/// <see cref="ImageSigner"/> and <see cref="ImageVerifier"/> for each reference.
/// </summary>
internal static class SigningRun
{
    /// <summary>The variable that holds the private key's password (an empty value is an empty password).</summary>
    public const string PasswordVariable = "KO_SIGN_PASSWORD";

    /// <summary>The variable that names the private key file when none is given.</summary>
    public const string KeyVariable = "KO_SIGN_KEY";

    public static async Task<KoKeyPair> GenerateKeyAsync(KoGenerateKeyOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var env = options.Environment ?? BuildPlan.ProcessEnvironment();
        var prefix = Path.GetFullPath(options.OutputKeyPrefix, WorkingDirectory(options.WorkingDirectory));
        var keyPath = prefix + ".key";
        var pubPath = prefix + ".pub";
        foreach (var path in new[] { keyPath, pubPath })
        {
            if (File.Exists(path) || Directory.Exists(path))
            {
                throw new KoException(KoErrorCodes.KeyFileExists, $"{path} already exists; ko does not replace a key. Remove it or choose another --output-key-prefix.");
            }
        }

        var password = await PasswordSource(env, options.Password)(cancellationToken).ConfigureAwait(false)
            ?? throw new KoException(KoErrorCodes.SigningKeyPassword, $"no password for the new key: set {PasswordVariable} (it may be empty) or run on a terminal to be asked.");
        using var key = SigningKey.Generate();
        await KeyFiles.WriteNewAsync(keyPath, key.ToEncryptedPem(password), UnixFileMode.UserRead | UnixFileMode.UserWrite, cancellationToken).ConfigureAwait(false);
        try
        {
            await KeyFiles.WriteNewAsync(pubPath, System.Text.Encoding.ASCII.GetBytes(key.PublicKey.ToPem()), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            File.Delete(keyPath);
            throw;
        }

        logger.LogDebug("Wrote the key pair {Key} and {Pub}", keyPath, pubPath);
        return new KoKeyPair(keyPath, pubPath);
    }

    public static async Task<KoSignResult> SignAsync(KoSignOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.References);
        var env = options.Environment ?? BuildPlan.ProcessEnvironment();
        var keyPath = options.Key ?? (env.GetValueOrDefault(KeyVariable) is { Length: > 0 } k ? k : null)
            ?? throw new KoException(KoErrorCodes.InvalidOption, $"no signing key: pass --key FILE or set {KeyVariable}.");
        ImageSigner.CheckAnnotations(options.Annotations);
        var images = options.References.Select(r => ImageReference.Parse(r, KoErrorCodes.InvalidOption)).ToList();
        var registry = Pipeline.BuildRun.RegistryOptionsFor(options.InsecureRegistry, env, logger, null);
        using var key = await SigningKey.LoadAsync(Path.GetFullPath(keyPath, WorkingDirectory(options.WorkingDirectory)), PasswordSource(env, options.Password), cancellationToken).ConfigureAwait(false);
        var signatures = new List<KoSignature>();
        foreach (var image in images)
        {
            foreach (var subject in await SubjectsAsync(registry, image, options.Recursive, cancellationToken).ConfigureAwait(false))
            {
                signatures.Add((await ImageSigner.SignAsync(registry, image.Name, subject, key, options.Annotations, cancellationToken).ConfigureAwait(false)).ToPublic());
                if (options.AttestSbom)
                {
                    signatures.AddRange(await AttestAsync(registry, image, subject, key, cancellationToken).ConfigureAwait(false));
                }
            }
        }

        return new KoSignResult(signatures);
    }

    public static async Task<KoVerifyResult> VerifyAsync(KoVerifyOptions options, ILogger logger, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(options.References);
        ArgumentNullException.ThrowIfNull(options.Key);
        var env = options.Environment ?? BuildPlan.ProcessEnvironment();
        var registry = Pipeline.BuildRun.RegistryOptionsFor(options.InsecureRegistry, env, logger, null);
        using var publicKey = await VerificationKey.LoadAsync(Path.GetFullPath(options.Key, WorkingDirectory(options.WorkingDirectory)), cancellationToken).ConfigureAwait(false);
        var verified = new List<KoVerifiedImage>();
        foreach (var reference in options.References)
        {
            var result = await ImageVerifier.VerifyAsync(registry, reference, publicKey, options.Attestations, cancellationToken).ConfigureAwait(false);
            logger.LogInformation(
                "Verified {Name}@{Digest}: {Count} signature(s) with the key{Attestations}",
                result.Name,
                result.Digest,
                result.Signatures.Count,
                result.PredicateTypes.Count > 0 ? $", attestations {string.Join(", ", result.PredicateTypes.Distinct())}" : string.Empty);
            verified.Add(new KoVerifiedImage(result.Name, result.Digest, result.Signatures.Count, result.PredicateTypes));
        }

        return new KoVerifyResult(verified);
    }

    /// <summary>
    /// The password of an encrypted key: <c>KO_SIGN_PASSWORD</c> when set (an empty value is an empty password), else
    /// the caller's source (a face's prompt), else null.
    /// </summary>
    public static Func<CancellationToken, ValueTask<string?>> PasswordSource(IReadOnlyDictionary<string, string?> environment, Func<CancellationToken, ValueTask<string?>>? fallback) => ct =>
        environment.TryGetValue(PasswordVariable, out var fromEnv) && fromEnv is not null
            ? ValueTask.FromResult<string?>(fromEnv)
            : fallback?.Invoke(ct) ?? ValueTask.FromResult<string?>(null);

    private static string WorkingDirectory(string? given) => Path.GetFullPath(given ?? Directory.GetCurrentDirectory());

    /// <summary>The manifest <paramref name="image"/> names and, with <paramref name="recursive"/> and an index, each platform image in it.</summary>
    private static async Task<List<Descriptor>> SubjectsAsync(RegistryOptions options, ImageReference image, bool recursive, CancellationToken cancellationToken)
    {
        var subjects = new List<Descriptor>();
        using var client = new RegistryClient(image.ApiHost, options);
        var (mediaType, bytes, digest) = await client.GetManifestAsync(image.Repository, image.ManifestReference, cancellationToken).ConfigureAwait(false);
        subjects.Add(new Descriptor(mediaType, digest, bytes.Length));
        if (recursive && MediaTypes.IsIndex(mediaType))
        {
            subjects.AddRange(Oci.Index.Parse(bytes, $"{image.Name}@{digest}").Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)));
        }

        return subjects;
    }

    private static async Task<List<KoSignature>> AttestAsync(RegistryOptions options, ImageReference image, Descriptor subject, SigningKey key, CancellationToken cancellationToken)
    {
        IReadOnlyList<(string PredicateType, byte[] Document)> sboms;
        using (var client = new RegistryClient(image.ApiHost, options))
        {
            sboms = await RegistrySboms.FindAsync(client, image.Repository, subject.Digest, cancellationToken).ConfigureAwait(false);
        }

        if (sboms.Count == 0)
        {
            throw new KoException(KoErrorCodes.NoSbomToAttest, $"{image.Name}@{subject.Digest} has no SBOM attached (no SPDX or CycloneDX artifact in its referrers tag {subject.Digest.Algorithm}-{subject.Digest.Hex} or .sbom tag); build it with --sbom spdx or cyclonedx, or drop --attest-sbom.");
        }

        var written = new List<KoSignature>();
        foreach (var (predicateType, document) in sboms)
        {
            try
            {
                written.Add((await ImageSigner.AttestAsync(options, image.Name, subject, key, predicateType, document, cancellationToken).ConfigureAwait(false)).ToPublic());
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new KoException(KoErrorCodes.SignatureManifestInvalid, $"{image.Name}@{subject.Digest}: the attached SBOM is not a JSON document, so it cannot be attested.", ex);
            }
        }

        return written;
    }
}
