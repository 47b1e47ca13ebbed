using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Signing;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko sign --key FILE [--sign-annotation k=v]… [--recursive] [--attest-sbom] REF…</c>: signs images already in
/// a registry as cosign's <c>sign --key</c> (and <c>attest --type spdxjson|cyclonedx</c> for the SBOMs ko attached),
/// through <see cref="KoEngine.SignAsync"/>. Standard output lists each signature or attestation manifest,
/// <c>name:sha256-HEX.sig</c>.
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
            var options = new KoSignOptions
            {
                References = r.GetValue(references) ?? [],
                Key = r.GetValue(key),
                Password = SigningInput.Prompted(error, confirm: false),
                Annotations = SigningInput.KeyValues(r.GetValue(annotations)),
                Recursive = r.GetValue(recursive),
                AttestSbom = r.GetValue(attest),
                InsecureRegistry = r.GetValue(insecure),
                Environment = environment,
            };
            var result = await new KoEngine(logger).SignAsync(options, ct).ConfigureAwait(false);
            foreach (var signature in result.Signatures)
            {
                await KoCli.WriteResultAsync(output, signature.Reference + output.NewLine).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }
}
