using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Signing;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko sign --key FILE [--sign-annotation k=v]… [--recursive] [--attest-sbom] REF…</c>: signs images already in
/// a registry as cosign's <c>sign --key</c> (and <c>attest --type spdxjson|cyclonedx</c> for the SBOMs ko attached).
/// Standard output lists each signature or attestation manifest written, <c>name:sha256-HEX.sig</c>.
/// </summary>
internal static class SignCommand
{
    public static Command Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var references = new Argument<string[]>("REF") { Description = "Images to sign, by tag or digest (registry/repository:tag or @sha256:…).", Arity = ArgumentArity.OneOrMore };
        var key = new Option<string?>("--key") { Description = "The private key: cosign's encrypted format (password from KO_SIGN_PASSWORD or a prompt) or a PKCS#8 ECDSA P-256 PEM. Default: KO_SIGN_KEY." };
        var annotations = new Option<string[]>("--sign-annotation", "-a") { Description = "key=value written into the signature's optional section, repeatable." };
        var recursive = new Option<bool>("--recursive") { Description = "For an index, also sign each platform image in it." };
        var attest = new Option<bool>("--attest-sbom") { Description = "Also attest each SBOM attached to the image (referrers or .sbom tag) as a signed in-toto statement (.att)." };
        var insecure = new Option<bool>("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };
        var cmd = new Command("sign", "Sign images in a registry in cosign's format (sha256-<hex>.sig), appending to signatures already there.");
        cmd.Arguments.Add(references);
        foreach (var o in new Option[] { key, annotations, recursive, attest, insecure })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var logger = new StderrLogger(error, r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            var env = SigningInput.Environment(environment);
            var keyPath = r.GetValue(key) ?? (env.GetValueOrDefault(SigningInput.KeyVariable) is { Length: > 0 } k ? k : null)
                ?? throw new KoException(KoErrorCodes.InvalidOption, $"no signing key: pass --key FILE or set {SigningInput.KeyVariable}.");
            var extra = SigningInput.KeyValues(r.GetValue(annotations));
            ImageSigner.CheckAnnotations(extra);
            var options = SigningInput.Registry(env, r.GetValue(insecure), logger);
            using var signingKey = await SigningKey.LoadAsync(Path.GetFullPath(keyPath), SigningInput.Password(env, error, confirm: false), ct).ConfigureAwait(false);
            foreach (var text in r.GetValue(references) ?? [])
            {
                foreach (var line in await SignOneAsync(options, text, signingKey, extra, r.GetValue(recursive), r.GetValue(attest), ct).ConfigureAwait(false))
                {
                    await KoCli.WriteResultAsync(output, line + output.NewLine).ConfigureAwait(false);
                }
            }

            return 0;
        });
        return cmd;
    }

    private static async Task<List<string>> SignOneAsync(RegistryOptions options, string text, SigningKey key, IReadOnlyDictionary<string, string> annotations, bool recursive, bool attest, CancellationToken ct)
    {
        var image = ImageReference.Parse(text, KoErrorCodes.InvalidOption);
        var subjects = new List<Descriptor>();
        using (var client = new RegistryClient(image.ApiHost, options))
        {
            var (mediaType, bytes, digest) = await client.GetManifestAsync(image.Repository, image.ManifestReference, ct).ConfigureAwait(false);
            subjects.Add(new Descriptor(mediaType, digest, bytes.Length));
            if (recursive && MediaTypes.IsIndex(mediaType))
            {
                subjects.AddRange(Ko.Engine.Oci.Index.Parse(bytes, $"{image.Name}@{digest}").Manifests.Where(m => MediaTypes.IsManifest(m.MediaType)));
            }
        }

        var written = new List<string>();
        foreach (var subject in subjects)
        {
            var outcome = await ImageSigner.SignAsync(options, image.Name, subject, key, annotations, ct).ConfigureAwait(false);
            written.Add(outcome.Reference);
            if (attest)
            {
                written.AddRange(await AttestAsync(options, image, subject, key, ct).ConfigureAwait(false));
            }
        }

        return written;
    }

    private static async Task<List<string>> AttestAsync(RegistryOptions options, ImageReference image, Descriptor subject, SigningKey key, CancellationToken ct)
    {
        IReadOnlyList<(string PredicateType, byte[] Document)> sboms;
        using (var client = new RegistryClient(image.ApiHost, options))
        {
            sboms = await RegistrySboms.FindAsync(client, image.Repository, subject.Digest, ct).ConfigureAwait(false);
        }

        if (sboms.Count == 0)
        {
            throw new KoException(KoErrorCodes.NoSbomToAttest, $"{image.Name}@{subject.Digest} has no SBOM attached (no SPDX or CycloneDX artifact in its referrers tag {subject.Digest.Algorithm}-{subject.Digest.Hex} or .sbom tag); build it with --sbom spdx or cyclonedx, or drop --attest-sbom.");
        }

        var written = new List<string>();
        foreach (var (predicateType, document) in sboms)
        {
            try
            {
                written.Add((await ImageSigner.AttestAsync(options, image.Name, subject, key, predicateType, document, ct).ConfigureAwait(false)).Reference);
            }
            catch (System.Text.Json.JsonException ex)
            {
                throw new KoException(KoErrorCodes.SignatureManifestInvalid, $"{image.Name}@{subject.Digest}: the attached SBOM is not a JSON document, so it cannot be attested.", ex);
            }
        }

        return written;
    }
}
