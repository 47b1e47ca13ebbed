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
        foreach (var c in ResolveCommands.Create(verbose, output, error, environment)) { root.Subcommands.Add(c); }
        var version = new Command("version", "Print the version of dotnet ko.");
        version.SetAction(_ => output.WriteLine(Version()));
        root.Subcommands.Add(version);

        var parse = root.Parse(args);
        if (parse.Action is System.CommandLine.Invocation.ParseErrorAction parseError)
        {
            // Standard output carries only references; a usage error says what is wrong on standard error.
            parseError.ShowHelp = false;
        }

        var config = new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false };
        try
        {
            return await parse.InvokeAsync(config, cancellationToken).ConfigureAwait(false);
        }
        catch (KoException ex)
        {
            error.WriteLine($"Error: {ex.Code}: {ex.Message}");
            return 1;
        }
        catch (OperationCanceledException)
        {
            error.WriteLine("Error: cancelled.");
            return 130;
        }
    }

    internal static string Version() =>
        typeof(KoCli).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static Command BuildCommand(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var importPaths = new Argument<string[]>("IMPORTPATH") { Description = "Import paths to build: ./cmd/app, example.com/mod/cmd/app or ko://example.com/mod/cmd/app.", Arity = ArgumentArity.OneOrMore };
        var platform = new Option<string[]>("--platform") { Description = "Platforms to build, comma separated: os/arch[/variant], or all. Default: the build machine's (linux/<arch>).", AllowMultipleArgumentsPerToken = false };
        var push = new Option<bool>("--push") { Description = "Push images to KO_DOCKER_REPO (default true).", DefaultValueFactory = _ => true };
        var tags = new Option<string[]>("--tags", "-t") { Description = "Tags to apply, repeatable or comma separated (default latest)." };
        var tagOnly = new Option<bool>("--tag-only") { Description = "Print and publish by tag only (one tag), without a digest." };
        var bare = new Option<bool>("--bare") { Description = "Name the image KO_DOCKER_REPO alone." };
        var preserve = new Option<bool>("--preserve-import-paths", "-P") { Description = "Name the image KO_DOCKER_REPO/<import path>." };
        var baseImportPaths = new Option<bool>("--base-import-paths", "-B") { Description = "Name the image KO_DOCKER_REPO/<base name of the import path>." };
        var ociLayout = new Option<string?>("--oci-layout-path") { Description = "Write the images into this OCI image layout directory." };
        var ociArchive = new Option<string?>("--oci-archive") { Description = "Write the images as an OCI layout inside this tar file (all platforms)." };
        var tarball = new Option<string?>("--tarball") { Description = "Write a docker-archive that docker/podman load accept (one platform: the build machine's)." };
        var imageRefs = new Option<string?>("--image-refs") { Description = "Write the built references to this file, one a line." };
        var labels = new Option<string[]>("--image-label") { Description = "Image config label key=value, repeatable or comma separated." };
        var annotations = new Option<string[]>("--image-annotation") { Description = "Manifest annotation key=value, repeatable or comma separated." };
        var user = new Option<string?>("--image-user") { Description = "The user the image runs as (name or uid[:gid])." };
        var baseImage = new Option<string?>("--base-image") { Description = "Base image: embedded:static (default), scratch or oci:DIR[:TAG]. Overrides KO_DEFAULTBASEIMAGE." };
        var jobs = new Option<int>("--jobs", "-j") { Description = "How many builds run at once (default: the processor count)." };
        jobs.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, out var n) && n < 1)
            {
                r.AddError("--jobs must be 1 or more.");
            }
        });
        var ldflags = new Option<string[]>("--ldflags") { Description = "Linker flags for go build, e.g. \"-X main.version=1.2.3\"." };
        var local = new Option<bool>("--local", "-L") { Description = "Load the images into the local docker daemon (or podman) instead of pushing; names go under ko.local." };
        var insecure = new Option<bool>("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };
        var workingDir = new Option<string?>("--working-dir", "-C") { Description = "The directory Go runs in (default: the current directory)." };
        var sbom = new Option<string?>("--sbom") { Description = "The SBOM made for every image: spdx (default, SPDX 2.3 JSON), cyclonedx (CycloneDX 1.6 JSON) or none." };
        sbom.AcceptOnlyFromAmong("spdx", "cyclonedx", "none");
        var sbomDir = new Option<string?>("--sbom-dir") { Description = "Write the SBOMs into this directory (<app>-<os>-<arch>.<format>.json, <app>-index.<format>.json)." };
        var sbomAttach = new Option<string?>("--sbom-attach") { Description = "How pushed SBOMs are attached: referrers (default; OCI 1.1 subject + referrers tag schema) or tag (ko's sha256-<hex>.sbom)." };
        sbomAttach.AcceptOnlyFromAmong("referrers", "tag");

        var cmd = new Command("build", "Build Go import paths into container images and publish them.");
        cmd.Aliases.Add("publish");
        cmd.Arguments.Add(importPaths);
        foreach (var o in new Option[] { platform, push, tags, tagOnly, bare, preserve, baseImportPaths, ociLayout, ociArchive, tarball, imageRefs, labels, annotations, user, baseImage, jobs, ldflags, local, insecure, workingDir, sbom, sbomDir, sbomAttach })
        {
            cmd.Options.Add(o);
        }

        cmd.Validators.Add(r =>
        {
            foreach (var path in r.GetValue(importPaths) ?? [])
            {
                if (path.StartsWith('-'))
                {
                    r.AddError($"unknown flag: {path}");
                }
            }


            foreach (var (opt, values) in new[] { ("--image-label", r.GetValue(labels)), ("--image-annotation", r.GetValue(annotations)) })
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

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var logger = display.Logger;
            var naming = NamingStrategy.Md5;
            if (r.GetValue(bare))
            {
                naming = NamingStrategy.Bare;
            }
            else if (r.GetValue(preserve))
            {
                naming = NamingStrategy.PreserveImportPath;
                if (r.GetValue(baseImportPaths))
                {
                    logger.LogWarning("--preserve-import-paths and --base-import-paths were both given; using --preserve-import-paths");
                }
            }
            else if (r.GetValue(baseImportPaths))
            {
                naming = NamingStrategy.BaseImportPath;
            }

            var options = new KoBuildOptions
            {
                ImportPaths = r.GetValue(importPaths) ?? [],
                WorkingDirectory = r.GetValue(workingDir),
                Platforms = r.GetValue(platform) ?? [],
                Push = r.GetValue(push),
                Local = r.GetValue(local),
                InsecureRegistry = r.GetValue(insecure),
                Tags = r.GetValue(tags) ?? [],
                TagOnly = r.GetValue(tagOnly),
                Naming = naming,
                OciLayoutPath = r.GetValue(ociLayout),
                OciArchivePath = r.GetValue(ociArchive),
                TarballPath = r.GetValue(tarball),
                ImageRefsPath = r.GetValue(imageRefs),
                Labels = KeyValues(r.GetValue(labels)),
                Annotations = KeyValues(r.GetValue(annotations)),
                User = r.GetValue(user),
                BaseImage = r.GetValue(baseImage),
                Jobs = r.GetValue(jobs),
                Ldflags = r.GetValue(ldflags) ?? [],
                Sbom = r.GetValue(sbom) is { } sbomFormat ? Ko.Engine.Sbom.SbomOptionValues.ParseFormat(sbomFormat) : null,
                SbomDirectory = r.GetValue(sbomDir),
                SbomAttach = r.GetValue(sbomAttach) is { } attach ? Ko.Engine.Sbom.SbomOptionValues.ParseAttachment(attach) : Ko.Engine.Sbom.SbomAttachment.Referrers,
                Environment = environment,
            };
            var engine = new KoEngine(logger, display);
            var result = await display.RunAsync(() => engine.BuildAsync(options, ct)).ConfigureAwait(false);
            foreach (var image in result.Images)
            {
                await output.WriteLineAsync(image.Reference).ConfigureAwait(false);
            }

            return 0;
        });
        return cmd;
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
