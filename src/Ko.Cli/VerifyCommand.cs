using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Signing;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko verify --key PUB [--attestations] REF…</c>: checks cosign signatures (and attestations) against a
/// public key through <see cref="KoEngine.VerifyAsync"/>. Standard output lists each verified image as
/// <c>name@sha256:…</c>; the first failure exits 1 with the KO code that names it (KO5006 no signature, KO5007 wrong
/// key, KO5008 digest, KO5009 identity, KO5011/KO5012 attestations).
/// </summary>
internal static class VerifyCommand
{
    public static Command Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var references = new Argument<string[]>("REF") { Description = "Images to verify, by tag or digest.", Arity = ArgumentArity.OneOrMore };
        var key = new Option<string>("--key") { Description = "The public key (PEM PUBLIC KEY, e.g. cosign.pub).", Required = true };
        var attestations = new Option<bool>("--attestations") { Description = "Also require a signed in-toto attestation (.att) about the image." };
        var insecure = new Option<bool>("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };
        var cmd = new Command("verify", "Verify cosign signatures (sha256-<hex>.sig) of images with a public key.");
        cmd.Arguments.Add(references);
        cmd.Options.Add(key);
        cmd.Options.Add(attestations);
        cmd.Options.Add(insecure);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var logger = new StderrLogger(error, r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            var options = new KoVerifyOptions
            {
                References = r.GetValue(references) ?? [],
                Key = r.GetValue(key)!,
                Attestations = r.GetValue(attestations),
                InsecureRegistry = r.GetValue(insecure),
                Environment = environment,
            };
            var result = await new KoEngine(logger).VerifyAsync(options, ct).ConfigureAwait(false);
            foreach (var image in result.Images)
            {
                await KoCli.WriteResultAsync(output, image.Reference + output.NewLine).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }
}
