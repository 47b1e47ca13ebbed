using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Configuration;

namespace Ko.Cli;

/// <summary>
/// ko's <c>run</c> (pkg/commands/run.go): build and publish IMPORTPATH, then <c>kubectl run</c> it; every argument
/// after the first <c>--</c> goes to kubectl as given.
/// </summary>
internal static class RunCommand
{
    /// <summary>The <c>run</c> command; <paramref name="args"/> is the whole command line, to find the first <c>--</c>.</summary>
    public static Command Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment, IReadOnlyList<string> args)
    {
        var paths = new Argument<string[]>("IMPORTPATH") { Description = "Import paths to build and run (./cmd/app, example.com/mod/cmd/app); arguments after -- go to kubectl run.", Arity = ArgumentArity.ZeroOrMore };
        var cmd = new Command("run", "A variant of `kubectl run` that containerizes IMPORTPATH first: dotnet ko run ./cmd/app -- [kubectl run flags] [-- container args]. kubectl runs with --attach --rm --restart=Never --log-flush-frequency=1s, as in ko.");
        cmd.Arguments.Add(paths);
        var flags = new BuildFlags(cmd);
        var dash = Array.IndexOf(args.ToArray(), "--");
        IReadOnlyList<string> kubectlArgs = dash < 0 ? [] : args.Skip(dash + 1).ToList();
        cmd.Validators.Add(r =>
        {
            var given = r.GetValue(paths) ?? [];
            var importPaths = given.Take(given.Length - kubectlArgs.Count).ToList();
            if (importPaths.Count == 0)
            {
                r.AddError("ko run: no import path given: name one before --, for example dotnet ko run ./cmd/app.");
            }

            // As ko: the first argument after run must be the import path, not a flag.
            var first = args.SkipWhile(a => a != "run").Skip(1).FirstOrDefault();
            if (first is not null && first.StartsWith('-') && first != "--")
            {
                r.AddError($"expected the first argument after run to be an import path, got {first} (as in ko, put flags after the import path).");
            }

            foreach (var path in importPaths.Where(p => p.StartsWith('-')))
            {
                r.AddError($"unknown flag: {path}");
            }
        });

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var given = r.GetValue(paths) ?? [];
            var options = new KoRunOptions
            {
                Build = flags.Options(r, environment, display.Logger) with { ImportPaths = given.Take(given.Length - kubectlArgs.Count).ToList() },
                KubectlArguments = kubectlArgs,
                Output = output,
                Error = error,
            };
            var engine = new KoEngine(display.Logger, display);
            await display.RunAsync(() => engine.RunAsync(options, ct)).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }
}
