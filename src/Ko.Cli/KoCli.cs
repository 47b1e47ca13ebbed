using System.CommandLine;
using System.CommandLine.Parsing;
using System.Reflection;
using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;
using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>The <c>dotnet ko</c> command line: ko's commands and flag names, on the KoAddins engine.</summary>
public static class KoCli
{
    /// <summary>Runs the command line and returns the process exit code (0 success, 1 failure, 130 cancelled).</summary>
    /// <param name="args">The arguments, as the shell passed them.</param>
    /// <param name="output">Where references go (standard output).</param>
    /// <param name="error">Where logs and errors go (standard error).</param>
    /// <param name="environment">The environment the build sees; null means the process's.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment = null, CancellationToken cancellationToken = default)
    {
        var verbose = new Option<bool>("--verbose", "-v") { Description = "Log debug output, including layer cache decisions.", Recursive = true };
        var root = new RootCommand("dotnet ko: build Go programs into container images without Docker.");
        root.Options.Add(verbose);
        root.Subcommands.Add(BuildCommand(verbose, output, error, environment));
        root.Subcommands.Add(LoginCommand.Create(verbose, output, error, environment));
        root.Subcommands.Add(PushCommand.Create(verbose, output, error, environment));
        var auth = new Command("auth", "Registry credentials (ko's spelling: ko auth login).");
        auth.Subcommands.Add(LoginCommand.Create(verbose, output, error, environment));
        root.Subcommands.Add(auth);
        foreach (var c in ResolveCommands.Create(verbose, output, error, environment, args)) { root.Subcommands.Add(c); }
        root.Subcommands.Add(RunCommand.Create(verbose, output, error, environment, args));
        root.Subcommands.Add(GenerateKeyCommand.Create(verbose, error, environment));
        root.Subcommands.Add(SignCommand.Create(verbose, output, error, environment));
        root.Subcommands.Add(VerifyCommand.Create(verbose, output, error, environment));
        var version = new Command("version", "Print the version of dotnet ko.");
        version.SetAction(_ => output.WriteLine(Version()));
        root.Subcommands.Add(version);
        root.Subcommands.Add(CompletionCommand.Create(root, output));

        var (normalized, badValue) = CliConventions.NormalizeBooleans(CliConventions.RewriteHelp(args), root);
        var parse = root.Parse(normalized);
        if (badValue is not null || parse.Errors.Count > 0)
        {
            // Standard output carries only references; a usage error is one Error: KO1004 line per problem on
            // standard error, as every other error.
            foreach (var message in badValue is not null ? [badValue] : parse.Errors.Select(e => CliConventions.Describe(e.Message, parse.CommandResult.Command)).Distinct())
            {
                error.WriteLine($"Error: {KoErrorCodes.InvalidOption}: {message}");
            }

            return 1;
        }

        var help = parse.Action is System.CommandLine.Help.HelpAction;
        var helpText = new StringWriter();
        var config = new InvocationConfiguration { Output = help ? helpText : output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            var code = await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
            if (help)
            {
                // The usage line names the program as users type it, not the assembly.
                await output.WriteAsync(helpText.ToString().Replace("  " + RootCommand.ExecutableName + " ", "  dotnet ko ", StringComparison.Ordinal)).ConfigureAwait(false);
            }

            return code;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Error: cancelled.");
            return 130;
        }
        catch (Exception ex)
        {
            return Report(ex, error, parse.GetValue(verbose));
        }
    }

    /// <summary>Writes a command's result to standard output; a failure there (a full disk, a closed pipe) is named as such.</summary>
    internal static async Task WriteResultAsync(TextWriter output, string text)
    {
        try
        {
            await output.WriteAsync(text).ConfigureAwait(false);
            await output.FlushAsync().ConfigureAwait(false);
        }
        catch (IOException ex)
        {
            throw new KoException(KoErrorCodes.OutputNotWritable, $"cannot write the result to standard output: {Ko.Engine.Util.SystemMessage.Of(ex)} Check where standard output goes (a full disk, a closed pipe).", ex);
        }
    }

    /// <summary>
    /// Writes an error that escaped the command as one <c>Error: KOnnnn: sentence</c> line and returns exit code 1:
    /// a <see cref="KoException"/> as it is; a file-system error as KO3011 with the system's reason (which names the
    /// path); anything else as KO3012, an internal error to report. The stack trace is shown only with --verbose.
    /// </summary>
    internal static int Report(Exception ex, TextWriter error, bool verbose)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } aggregate)
        {
            ex = aggregate.InnerExceptions[0];
        }

        var line = ex switch
        {
            KoException ko => $"{ko.Code}: {ko.Message}",
            IOException or UnauthorizedAccessException => $"{KoErrorCodes.FileSystemError}: {Ko.Engine.Util.SystemMessage.Of(ex)} Check that path (it may be missing, not writable, or on a full disk) and run again.",
            _ => $"{KoErrorCodes.InternalError}: unexpected {ex.GetType().Name}: {Ko.Engine.Util.SystemMessage.Of(ex)} This is a bug in dotnet ko; please report it with the command you ran (--verbose shows where it happened).",
        };
        error.WriteLine($"Error: {line}");
        if (verbose && ex is not KoException)
        {
            error.WriteLine(ex.ToString());
        }

        return 1;
    }

    internal static string Version() =>
        typeof(KoCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static Command BuildCommand(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var importPaths = new Argument<string[]>("IMPORTPATH") { Description = "Import paths to build: ./cmd/app, example.com/mod/cmd/app or ko://example.com/mod/cmd/app (default: ., as ko).", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("build", "Build Go import paths into container images and publish them.");
        cmd.Aliases.Add("publish");
        cmd.Arguments.Add(importPaths);
        var flags = new BuildFlags(cmd);
        cmd.Validators.Add(r =>
        {
            foreach (var path in r.GetValue(importPaths) ?? [])
            {
                if (path.StartsWith('-'))
                {
                    r.AddError($"unknown flag: {path}");
                }
            }
        });

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var logger = display.Logger;
            // As ko's build command: no import path builds the package in the current directory.
            var paths = r.GetValue(importPaths) is { Length: > 0 } given ? given : ["."];
            var options = flags.Options(r, environment, logger) with { ImportPaths = paths };
            var engine = new KoEngine(logger, display);
            var result = await display.RunAsync(() => engine.BuildAsync(options, ct)).ConfigureAwait(false);
            foreach (var image in result.Images)
            {
                await WriteResultAsync(output, image.Reference + output.NewLine).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }
}
