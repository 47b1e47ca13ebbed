using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;

namespace Ko.Cli;

/// <summary><c>resolve</c>, <c>apply</c>, <c>create</c> and <c>delete</c>: ko's Kubernetes commands.</summary>
internal static class ResolveCommands
{
    /// <summary>The four commands, for the root command.</summary>
    public static IEnumerable<Command> Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        yield return Resolve(verbose, output, error, environment);
        yield return Send("apply", "Build the images that YAML files reference with ko:// and apply the resolved objects (server-side apply).", verbose, output, error, environment);
        yield return Send("create", "Build the images that YAML files reference with ko:// and create the resolved objects.", verbose, output, error, environment);
        yield return Delete(verbose, output, error, environment);
    }

    private static Command Resolve(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var cmd = new Command("resolve", "Build the images that YAML files reference with ko:// and print the YAML with those references replaced.");
        var files = new FileFlags(cmd);
        var build = new BuildFlags(cmd);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = files.Options(r, build.Options(r, environment, display.Logger));
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => engine.ResolveAsync(options, ct)).ConfigureAwait(false);
            await output.WriteAsync(result.Text).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }

    private static Command Send(string name, string description, Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var cmd = new Command(name, description);
        var files = new FileFlags(cmd);
        var build = new BuildFlags(cmd);
        var cluster = new ClusterFlags(cmd);
        var force = new Option<bool>("--force-conflicts") { Description = "Server-side apply takes ownership of fields other managers own." };
        if (name == "apply")
        {
            cmd.Options.Add(force);
        }

        var continueOnError = new Option<bool>("--continue-on-error") { Description = "Send every object even when one fails; the run still fails at the end." };
        cmd.Options.Add(continueOnError);
        var kubectl = new Option<bool>("--kubectl") { Description = "Hand the resolved YAML to `kubectl " + name + " -f -`, with the arguments after --." };
        var kubectlArgs = new Argument<string[]>("KUBECTL_ARGS") { Description = "Arguments for kubectl, after --.", Arity = ArgumentArity.ZeroOrMore };
        cmd.Options.Add(kubectl);
        cmd.Arguments.Add(kubectlArgs);
        cmd.Validators.Add(r =>
        {
            if ((r.GetValue(kubectlArgs) ?? []).Length > 0 && !r.GetValue(kubectl))
            {
                r.AddError($"unexpected arguments {string.Join(' ', r.GetValue(kubectlArgs) ?? [])}: arguments after -- go to kubectl and need --kubectl.");
            }
        });
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = new KoApplyOptions
            {
                Resolve = files.Options(r, build.Options(r, environment, display.Logger)),
                Kubeconfig = r.GetValue(cluster.Kubeconfig),
                Context = r.GetValue(cluster.Context),
                Namespace = r.GetValue(cluster.Namespace),
                ForceConflicts = name == "apply" && r.GetValue(force),
                ContinueOnError = r.GetValue(continueOnError),
                UseKubectl = r.GetValue(kubectl),
                KubectlArguments = r.GetValue(kubectlArgs) ?? [],
            };
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => name == "apply" ? engine.ApplyAsync(options, ct) : engine.CreateAsync(options, ct)).ConfigureAwait(false);
            foreach (var o in result.Objects)
            {
                await output.WriteLineAsync(o.ToString()).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
    }

    private static Command Delete(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var cmd = new Command("delete", "Delete the objects that YAML files describe (nothing is built).");
        var files = new FileFlags(cmd);
        var cluster = new ClusterFlags(cmd);
        var ignore = new Option<bool>("--ignore-not-found") { Description = "Report missing objects instead of failing (default true).", DefaultValueFactory = _ => true };
        cmd.Options.Add(ignore);
        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
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
                await output.WriteLineAsync(o.ToString()).ConfigureAwait(false);
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

        public KoResolveOptions Options(ParseResult r, KoBuildOptions build) => new()
        {
            Files = r.GetValue(Filename) ?? [],
            Recursive = r.GetValue(Recursive),
            Selector = r.GetValue(Selector),
            Build = build,
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
    private sealed class BuildFlags
    {
        private readonly Option<string[]> _platform = new("--platform") { Description = "Platforms to build, comma separated: os/arch[/variant], or all." };
        private readonly Option<bool> _push = new("--push") { Description = "Push images to KO_DOCKER_REPO (default true).", DefaultValueFactory = _ => true };
        private readonly Option<string[]> _tags = new("--tags", "-t") { Description = "Tags to apply, repeatable or comma separated (default latest)." };
        private readonly Option<bool> _tagOnly = new("--tag-only") { Description = "Publish and reference by tag only (one tag), without a digest." };
        private readonly Option<bool> _bare = new("--bare") { Description = "Name the image KO_DOCKER_REPO alone." };
        private readonly Option<bool> _preserve = new("--preserve-import-paths", "-P") { Description = "Name the image KO_DOCKER_REPO/<import path>." };
        private readonly Option<bool> _baseImportPaths = new("--base-import-paths", "-B") { Description = "Name the image KO_DOCKER_REPO/<base name of the import path>." };
        private readonly Option<string?> _ociLayout = new("--oci-layout-path") { Description = "Also write the images into this OCI image layout directory." };
        private readonly Option<string?> _ociArchive = new("--oci-archive") { Description = "Also write the images as an OCI layout inside this tar file." };
        private readonly Option<string?> _tarball = new("--tarball") { Description = "Also write a docker-archive (one platform)." };
        private readonly Option<string?> _imageRefs = new("--image-refs") { Description = "Write the built references to this file, one a line." };
        private readonly Option<string[]> _labels = new("--image-label") { Description = "Image config label key=value, repeatable or comma separated." };
        private readonly Option<string[]> _annotations = new("--image-annotation") { Description = "Manifest annotation key=value, repeatable or comma separated." };
        private readonly Option<string?> _user = new("--image-user") { Description = "The user the image runs as." };
        private readonly Option<string?> _baseImage = new("--base-image") { Description = "Base image: embedded:static (default), scratch or oci:DIR[:TAG]." };
        private readonly Option<int> _jobs = new("--jobs", "-j") { Description = "How many builds run at once (default: the processor count)." };
        private readonly Option<string[]> _ldflags = new("--ldflags") { Description = "Linker flags for go build." };
        private readonly Option<bool> _local = new("--local", "-L") { Description = "Load the images into the local docker daemon (or podman) instead of pushing." };
        private readonly Option<bool> _insecure = new("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };
        private readonly Option<string?> _workingDir = new("--working-dir", "-C") { Description = "The directory Go runs in (default: the current directory)." };

        private readonly Option<string?> _sbom = new("--sbom") { Description = "The SBOM made for every image: spdx (default), cyclonedx or none." };
        private readonly Option<string?> _sbomDir = new("--sbom-dir") { Description = "Write the SBOMs into this directory." };
        private readonly Option<string?> _sbomAttach = new("--sbom-attach") { Description = "How pushed SBOMs are attached: referrers (default) or tag (ko's sha256-<hex>.sbom)." };

        public BuildFlags(Command cmd)
        {
            _sbom.AcceptOnlyFromAmong("spdx", "cyclonedx", "none");
            _sbomAttach.AcceptOnlyFromAmong("referrers", "tag");
            foreach (var o in new Option[] { _sbom, _sbomDir, _sbomAttach, _platform, _push, _tags, _tagOnly, _bare, _preserve, _baseImportPaths, _ociLayout, _ociArchive, _tarball, _imageRefs, _labels, _annotations, _user, _baseImage, _jobs, _ldflags, _local, _insecure, _workingDir })
            {
                cmd.Options.Add(o);
            }

            cmd.Validators.Add(r =>
            {
                if (r.GetValue(_jobs) < 0 || (r.GetResult(_jobs) is { Tokens.Count: > 0 } && r.GetValue(_jobs) < 1))
                {
                    r.AddError("--jobs must be 1 or more.");
                }

                foreach (var (opt, values) in new[] { ("--image-label", r.GetValue(_labels)), ("--image-annotation", r.GetValue(_annotations)) })
                {
                    foreach (var kv in Split(values))
                    {
                        if (!kv.Contains('=') || kv.StartsWith('='))
                        {
                            r.AddError($"{opt} '{kv}' is not key=value.");
                        }
                    }
                }
            });
        }

        public KoBuildOptions Options(ParseResult r, IReadOnlyDictionary<string, string?>? environment, Microsoft.Extensions.Logging.ILogger logger)
        {
            var naming = NamingStrategy.Md5;
            if (r.GetValue(_bare))
            {
                naming = NamingStrategy.Bare;
            }
            else if (r.GetValue(_preserve))
            {
                naming = NamingStrategy.PreserveImportPath;
                if (r.GetValue(_baseImportPaths))
                {
                    Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "--preserve-import-paths and --base-import-paths were both given; using --preserve-import-paths");
                }
            }
            else if (r.GetValue(_baseImportPaths))
            {
                naming = NamingStrategy.BaseImportPath;
            }

            return new KoBuildOptions
            {
                WorkingDirectory = r.GetValue(_workingDir),
                Platforms = r.GetValue(_platform) ?? [],
                Push = r.GetValue(_push),
                Local = r.GetValue(_local),
                InsecureRegistry = r.GetValue(_insecure),
                Tags = r.GetValue(_tags) ?? [],
                TagOnly = r.GetValue(_tagOnly),
                Naming = naming,
                OciLayoutPath = r.GetValue(_ociLayout),
                OciArchivePath = r.GetValue(_ociArchive),
                TarballPath = r.GetValue(_tarball),
                ImageRefsPath = r.GetValue(_imageRefs),
                Labels = KeyValues(r.GetValue(_labels)),
                Annotations = KeyValues(r.GetValue(_annotations)),
                User = r.GetValue(_user),
                BaseImage = r.GetValue(_baseImage),
                Jobs = r.GetValue(_jobs),
                Ldflags = r.GetValue(_ldflags) ?? [],
                Sbom = r.GetValue(_sbom) is { } sbom ? Ko.Engine.Sbom.SbomOptionValues.ParseFormat(sbom) : null,
                SbomDirectory = r.GetValue(_sbomDir),
                SbomAttach = r.GetValue(_sbomAttach) is { } attach ? Ko.Engine.Sbom.SbomOptionValues.ParseAttachment(attach) : Ko.Engine.Sbom.SbomAttachment.Referrers,
                Environment = environment,
            };
        }

        private static IEnumerable<string> Split(string[]? values) =>
            (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

        private static Dictionary<string, string> KeyValues(string[]? values)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var kv in Split(values))
            {
                var eq = kv.IndexOf('=', StringComparison.Ordinal);
                result[kv[..eq]] = kv[(eq + 1)..];
            }

            return result;
        }
    }
}
