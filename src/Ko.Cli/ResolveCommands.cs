using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;

namespace Ko.Cli;

/// <summary><c>resolve</c>, <c>apply</c>, <c>create</c> and <c>delete</c>: ko's Kubernetes commands.</summary>
internal static class ResolveCommands
{
    /// <summary>The four commands, for the root command.</summary>
    public static IEnumerable<Command> Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment, IReadOnlyList<string>? args = null)
    {
        yield return Resolve(verbose, output, error, environment);
        yield return Send("apply", "Build the images that YAML files reference with ko:// and apply the resolved objects (server-side apply).", verbose, output, error, environment);
        yield return Send("create", "Build the images that YAML files reference with ko:// and create the resolved objects.", verbose, output, error, environment);
        yield return Delete(verbose, output, error, environment, args ?? []);
    }

    /// <summary>
    /// ko's <c>delete</c> (pkg/commands/delete.go) hands every argument to <c>kubectl delete</c>: done here when the
    /// arguments hold anything the built-in delete does not know (<c>--all</c>, <c>-l</c> without <c>-f</c>, a kind and
    /// a name), with kubectl's output passed on and its failure as KO4009.
    /// </summary>
    private static async Task<int> KubectlDeleteAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment, CancellationToken ct)
    {
        var run = await new KoEngine().KubectlDeleteAsync(args, environment, ct).ConfigureAwait(false);
        await KoCli.WriteResultAsync(output, run.StandardOutput).ConfigureAwait(false);
        if (run.ExitCode != 0)
        {
            // kubectl's last line says what went wrong (the lines before repeat its retries).
            var reason = run.StandardError.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "no message";
            throw new KoException(KoErrorCodes.KubectlFailed, $"kubectl delete exited {run.ExitCode}: {reason}");
        }

        await error.WriteAsync(run.StandardError).ConfigureAwait(false);
        return 0;
    }

    private static Command Resolve(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var cmd = new Command("resolve", "Build the images that YAML files reference with ko:// and print the YAML with those references replaced.");
        var files = new FileFlags(cmd);
        var build = new BuildFlags(cmd, readsRecord: true);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = files.Options(r, build, environment, display.Logger);
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => engine.ResolveAsync(options, ct)).ConfigureAwait(false);
            await KoCli.WriteResultAsync(output, result.Text).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }

    private static Command Send(string name, string description, Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var cmd = new Command(name, description);
        var files = new FileFlags(cmd);
        var build = new BuildFlags(cmd, readsRecord: true);
        var cluster = new ClusterFlags(cmd);
        var force = new Option<bool>("--force-conflicts") { Description = "Server-side apply takes ownership of fields other managers own." };
        if (name == "apply")
        {
            cmd.Options.Add(force);
        }

        var continueOnError = new Option<bool>("--continue-on-error") { Description = "Send every object even when one fails; the run still fails at the end." };
        cmd.Options.Add(continueOnError);
        var kubectl = new Option<bool>("--kubectl") { Description = "Hand the resolved YAML to `kubectl " + name + " -f -`; implied by arguments after --, which go to kubectl as in ko." };
        var kubectlArgs = new Argument<string[]>("KUBECTL_ARGS") { Description = "Arguments for kubectl, after --.", Arity = ArgumentArity.ZeroOrMore };
        cmd.Options.Add(kubectl);
        cmd.Arguments.Add(kubectlArgs);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = new KoApplyOptions
            {
                Resolve = files.Options(r, build, environment, display.Logger),
                Kubeconfig = r.GetValue(cluster.Kubeconfig),
                Context = r.GetValue(cluster.Context),
                Namespace = r.GetValue(cluster.Namespace),
                ForceConflicts = name == "apply" && r.GetValue(force),
                ContinueOnError = r.GetValue(continueOnError),
                // As ko (pkg/commands/apply.go): arguments after -- go to kubectl, so giving any means kubectl runs.
                UseKubectl = r.GetValue(kubectl) || (r.GetValue(kubectlArgs) ?? []).Length > 0,
                KubectlArguments = r.GetValue(kubectlArgs) ?? [],
            };
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => name == "apply" ? engine.ApplyAsync(options, ct) : engine.CreateAsync(options, ct)).ConfigureAwait(false);
            foreach (var o in result.Objects)
            {
                await KoCli.WriteResultAsync(output, o + output.NewLine).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }

    private static Command Delete(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment, IReadOnlyList<string> args)
    {
        var cmd = new Command("delete", "Delete the objects that YAML files describe (nothing is built); other arguments (--all, kind name) go to kubectl delete, as in ko.");
        cmd.TreatUnmatchedTokensAsErrors = false;
        var files = new FileFlags(cmd);
        files.Filename.Required = false;
        var cluster = new ClusterFlags(cmd);
        var ignore = new Option<bool>("--ignore-not-found") { Description = "Report missing objects instead of failing (default true).", DefaultValueFactory = _ => true };
        cmd.Options.Add(ignore);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            if (r.UnmatchedTokens.Count > 0 || (r.GetValue(files.Filename) ?? []).Length == 0)
            {
                var rest = args.SkipWhile(a => a != "delete").Skip(1).Where(a => a != "--").ToList();
                return await KubectlDeleteAsync(rest, output, error, environment, ct).ConfigureAwait(false);
            }

            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = new KoDeleteOptions
            {
                Files = r.GetValue(files.Filename) ?? [],
                Recursive = r.GetValue(files.Recursive),
                Selector = r.GetValue(files.Selector),
                Kubeconfig = r.GetValue(cluster.Kubeconfig),
                Context = r.GetValue(cluster.Context),
                Namespace = r.GetValue(cluster.Namespace),
                IgnoreNotFound = r.GetValue(ignore),
                Environment = environment,
            };
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => engine.DeleteAsync(options, ct)).ConfigureAwait(false);
            foreach (var o in result.Objects)
            {
                await KoCli.WriteResultAsync(output, o + output.NewLine).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }

    private sealed class FileFlags
    {
        public FileFlags(Command cmd)
        {
            Filename = new Option<string[]>("--filename", "-f") { Description = "A YAML or JSON file, a directory of them, or - for standard input; repeatable.", Required = true };
            Recursive = new Option<bool>("--recursive", "-R") { Description = "Read the directories given with -f recursively." };
            Selector = new Option<string?>("--selector", "-l") { Description = "Only documents whose labels match, e.g. app=web,tier!=db,env in (a,b),!legacy." };
            cmd.Options.Add(Filename);
            cmd.Options.Add(Recursive);
            cmd.Options.Add(Selector);
        }

        public Option<string[]> Filename { get; }

        public Option<bool> Recursive { get; }

        public Option<string?> Selector { get; }

        public KoResolveOptions Options(ParseResult r, BuildFlags build, IReadOnlyDictionary<string, string?>? environment, Microsoft.Extensions.Logging.ILogger logger) => new()
        {
            Files = r.GetValue(Filename) ?? [],
            Recursive = r.GetValue(Recursive),
            Selector = r.GetValue(Selector),
            Build = build.Options(r, environment, logger),
            BuildRecordPath = build.RecordToRead(r),
        };
    }

    private sealed class ClusterFlags
    {
        public ClusterFlags(Command cmd)
        {
            Kubeconfig = new Option<string?>("--kubeconfig") { Description = "The kubeconfig file (default: KUBECONFIG, else ~/.kube/config)." };
            Context = new Option<string?>("--context") { Description = "The kubeconfig context (default: the current one)." };
            Namespace = new Option<string?>("--namespace", "-n") { Description = "The namespace for objects that name none." };
            cmd.Options.Add(Kubeconfig);
            cmd.Options.Add(Context);
            cmd.Options.Add(Namespace);
        }

        public Option<string?> Kubeconfig { get; }

        public Option<string?> Context { get; }

        public Option<string?> Namespace { get; }
    }

    // The same flags as `build` (declared again here so KoCli.cs stays as it is).
}
