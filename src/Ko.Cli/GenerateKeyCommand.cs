using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Signing;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko generate-key [--output-key-prefix cosign]</c>: an ECDSA P-256 key pair as cosign's
/// <c>generate-key-pair</c> writes it: <c>PREFIX.key</c> (encrypted, mode 0600) and <c>PREFIX.pub</c>.
/// </summary>
internal static class GenerateKeyCommand
{
    public static Command Create(Option<bool> verbose, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var prefix = new Option<string>("--output-key-prefix") { Description = "Write PREFIX.key and PREFIX.pub (default cosign, as cosign).", DefaultValueFactory = _ => "cosign" };
        var cmd = new Command("generate-key", "Generate a signing key pair in cosign's format: PREFIX.key (encrypted with KO_SIGN_PASSWORD or a typed password) and PREFIX.pub.");
        cmd.Options.Add(prefix);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var logger = new StderrLogger(error, r.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            var options = new KoGenerateKeyOptions
            {
                OutputKeyPrefix = r.GetValue(prefix)!,
                Password = SigningInput.Prompted(error, confirm: true),
                Environment = environment,
            };
            var pair = await new KoEngine(logger).GenerateKeyAsync(options, ct).ConfigureAwait(false);
            await error.WriteLineAsync($"Private key written to {pair.PrivateKeyPath}").ConfigureAwait(false);
            await error.WriteLineAsync($"Public key written to {pair.PublicKeyPath}").ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }
}
