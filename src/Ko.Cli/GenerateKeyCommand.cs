using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Signing;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko generate-key [--output-key-prefix cosign]</c>: an ECDSA P-256 key pair as cosign's
/// <c>generate-key-pair</c> writes it: <c>PREFIX.key</c> (encrypted, mode 0600) and <c>PREFIX.pub</c>.
/// </summary>
internal static class GenerateKeyCommand
{
    public static Command Create(TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var prefix = new Option<string>("--output-key-prefix") { Description = "Write PREFIX.key and PREFIX.pub (default cosign, as cosign).", DefaultValueFactory = _ => "cosign" };
        var cmd = new Command("generate-key", "Generate a signing key pair in cosign's format: PREFIX.key (encrypted with KO_SIGN_PASSWORD or a typed password) and PREFIX.pub.");
        cmd.Options.Add(prefix);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var env = SigningInput.Environment(environment);
            var keyPath = Path.GetFullPath(r.GetValue(prefix)! + ".key");
            var pubPath = Path.GetFullPath(r.GetValue(prefix)! + ".pub");
            foreach (var path in new[] { keyPath, pubPath })
            {
                if (File.Exists(path) || Directory.Exists(path))
                {
                    throw new KoException(KoErrorCodes.KeyFileExists, $"{path} already exists; ko does not replace a key. Remove it or choose another --output-key-prefix.");
                }
            }

            var password = await SigningInput.Password(env, error, confirm: true)(ct).ConfigureAwait(false)
                ?? throw new KoException(KoErrorCodes.SigningKeyPassword, $"no password for the new key: set {SigningInput.PasswordVariable} (it may be empty) or run on a terminal to be asked.");
            using var key = SigningKey.Generate();
            await WriteNewAsync(keyPath, key.ToEncryptedPem(password), UnixFileMode.UserRead | UnixFileMode.UserWrite, ct).ConfigureAwait(false);
            try
            {
                await WriteNewAsync(pubPath, System.Text.Encoding.ASCII.GetBytes(key.PublicKey.ToPem()), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead, ct).ConfigureAwait(false);
            }
            catch
            {
                File.Delete(keyPath);
                throw;
            }

            await error.WriteLineAsync($"Private key written to {keyPath}").ConfigureAwait(false);
            await error.WriteLineAsync($"Public key written to {pubPath}").ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }

    /// <summary>Writes a new file beside its target and moves it into place only when complete; never replaces a file.</summary>
    private static async Task WriteNewAsync(string path, byte[] bytes, UnixFileMode mode, CancellationToken cancellationToken)
    {
        var dir = Path.GetDirectoryName(path)!;
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}");
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
            if (!OperatingSystem.IsWindows())
            {
                options.UnixCreateMode = mode;
            }

            await using (var stream = new FileStream(temp, options))
            {
                await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
                await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
            }

            File.Move(temp, path, overwrite: false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write {path}: {Ko.Engine.Util.SystemMessage.Of(ex)} Choose a writable location (or remove the file that is there).", ex);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Best effort: a later run removes nothing of ours, but the temporary holds no secret in the clear.
        }
    }
}
