using System.CommandLine;
using Ko.Engine.Configuration;
using Ko.Engine.Publishing;

namespace Ko.Cli;

/// <summary>The build flags ko's build, resolve, apply and create commands share, and their mapping to <see cref="KoBuildOptions"/>.</summary>
internal sealed class BuildFlags
{
    private readonly Option<string[]> _platform = new("--platform") { Description = "Platforms to build, comma separated: os/arch[/variant], or all. Default: the build machine's (linux/<arch>)." };
    private readonly Option<bool> _push = new("--push") { Description = "Push images to KO_DOCKER_REPO (default true).", DefaultValueFactory = _ => true };
    private readonly Option<string[]> _tags = new("--tags", "-t") { Description = "Tags to apply, repeatable or comma separated (default latest)." };
    private readonly Option<bool> _tagOnly = new("--tag-only") { Description = "Print and publish by tag only (one tag), without a digest." };
    private readonly Option<bool> _bare = new("--bare") { Description = "Name the image KO_DOCKER_REPO alone." };
    private readonly Option<bool> _preserve = new("--preserve-import-paths", "-P") { Description = "Name the image KO_DOCKER_REPO/<import path>." };
    private readonly Option<bool> _baseImportPaths = new("--base-import-paths", "-B") { Description = "Name the image KO_DOCKER_REPO/<base name of the import path>." };
    private readonly Option<string?> _ociLayout = new("--oci-layout-path") { Description = "Write the images into this OCI image layout directory." };
    private readonly Option<string?> _ociArchive = new("--oci-archive") { Description = "Write the images as an OCI layout inside this tar file (all platforms)." };
    private readonly Option<string?> _tarball = new("--tarball") { Description = "Write a docker-archive that docker/podman load accept (one platform: the build machine's)." };
    private readonly Option<string?> _imageRefs = new("--image-refs") { Description = "Write the built references to this file, one a line." };
    private readonly Option<string[]> _labels = new("--image-label") { Description = "Image config label key=value, repeatable or comma separated." };
    private readonly Option<string[]> _annotations = new("--image-annotation") { Description = "Manifest annotation key=value, repeatable or comma separated." };
    private readonly Option<string?> _user = new("--image-user") { Description = "The user the image runs as (name or uid[:gid])." };
    private readonly Option<string?> _baseImage = new("--base-image") { Description = "Base image: embedded:static (default), scratch, oci:DIR[:REF] or a registry reference. Overrides KO_DEFAULTBASEIMAGE." };
    private readonly Option<int> _jobs = new("--jobs", "-j") { Description = "How many builds run at once (default: the processor count)." };
    private readonly Option<string[]> _ldflags = new("--ldflags") { Description = "Linker flags for go build, e.g. \"-X main.version=1.2.3\"." };
    private readonly Option<bool> _local = new("--local", "-L") { Description = "Load the images into the local docker daemon (or podman) instead of pushing; names go under ko.local." };
    private readonly Option<bool> _insecure = new("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registry." };
    private readonly Option<bool> _disableOptimizations = new("--disable-optimizations") { Description = "Build without optimizations and inlining (-gcflags=all=-N -l), for a debugger." };
    private readonly Option<string?> _workingDir = new("--working-dir", "-C") { Description = "The directory Go runs in (default: the current directory)." };

    private readonly Option<string?> _sbom = new("--sbom") { Description = "The SBOM made for every image: spdx (default, SPDX 2.3 JSON), cyclonedx (CycloneDX 1.6 JSON) or none." };
    private readonly Option<string?> _sbomDir = new("--sbom-dir") { Description = "Write the SBOMs into this directory (<app>-<os>-<arch>.<format>.json, <app>-index.<format>.json)." };
    private readonly Option<string?> _sbomAttach = new("--sbom-attach") { Description = "How pushed SBOMs are attached: referrers (default; OCI 1.1 subject + referrers tag schema) or tag (ko's sha256-<hex>.sbom)." };
    private readonly Option<string?> _compression = new("--compression") { Description = "Layer compression: gzip (default) or zstd (OCI tar+zstd; smaller, faster to unpack; needs an OCI base image and a zstd-capable runtime)." };

    private readonly Option<string?> _signKey = new("--sign-key") { Description = "Sign every pushed image and index with this key (cosign's format; password from KO_SIGN_PASSWORD). Default: KO_SIGN_KEY." };
    private readonly Option<string[]> _signAnnotations = new("--sign-annotation") { Description = "key=value written into each signature's optional section, repeatable or comma separated." };
    private readonly Option<bool> _attestSbom = new("--attest-sbom") { Description = "Also attach each SBOM as a signed in-toto attestation (.att), as cosign attest." };

    // build record: `build` writes it; `resolve`/`apply`/`create` read it and build nothing.
    private readonly Option<string?> _buildRecord;
    private readonly bool _readsRecord;

    public BuildFlags(Command cmd, bool readsRecord = false)
    {
        _readsRecord = readsRecord;
        _buildRecord = new("--build-record")
        {
            Description = readsRecord
                ? "Take the images from this build record (written by `dotnet ko build --build-record`) and build nothing; a ko:// path missing from it is an error."
                : "Write a JSON build record of the images to this file (reference, digest, platforms, tags, SBOMs, base), for `resolve|apply|create --build-record`.",
        };
        cmd.Options.Add(_buildRecord);
        _sbom.AcceptOnlyFromAmong("spdx", "cyclonedx", "none");
        _sbomAttach.AcceptOnlyFromAmong("referrers", "tag");
        _compression.AcceptOnlyFromAmong("gzip", "zstd");
        foreach (var o in new Option[] { _platform, _push, _tags, _tagOnly, _bare, _preserve, _baseImportPaths, _ociLayout, _ociArchive, _tarball, _imageRefs, _labels, _annotations, _user, _baseImage, _jobs, _ldflags, _local, _insecure, _disableOptimizations, _workingDir, _sbom, _sbomDir, _sbomAttach, _signKey, _signAnnotations, _attestSbom, _compression })
        {
            cmd.Options.Add(o);
        }

        // Checked on the tokens: GetValue would throw on a value that is not a number (that error is reported already).
        _jobs.Validators.Add(r =>
        {
            if (r.Tokens.Count > 0 && int.TryParse(r.Tokens[^1].Value, out var n) && n < 1)
            {
                r.AddError("--jobs must be 1 or more.");
            }
        });
        // Checked on the tokens too: GetValue throws when a value is missing (--image-label=), which the parser reports.
        foreach (var option in new[] { _labels, _annotations, _signAnnotations })
        {
            option.Validators.Add(r =>
            {
                foreach (var kv in Split([.. r.Tokens.Select(t => t.Value)]))
                {
                    if (!kv.Contains('=') || kv.StartsWith('='))
                    {
                        r.AddError($"{option.Name} '{kv}' is not key=value.");
                    }
                }
            });
        }
    }

    public KoBuildOptions Options(ParseResult r, IReadOnlyDictionary<string, string?>? environment, Microsoft.Extensions.Logging.ILogger logger)
    {
        bool preserve = r.GetValue(_preserve), baseNames = r.GetValue(_baseImportPaths), bare = r.GetValue(_bare);
        var naming = Ko.Engine.Configuration.NamingRule.Choose(preserve, baseNames, bare);
        if (Ko.Engine.Configuration.NamingRule.Overridden(preserve, baseNames, bare, ("--preserve-import-paths", "--base-import-paths", "--bare")) is { } note)
        {
            Microsoft.Extensions.Logging.LoggerExtensions.LogWarning(logger, "{Note}", note);
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
            // As ko's --disable-optimizations (pkg/build/gobuild.go adds -gcflags all=-N -l).
            BuildFlags = r.GetValue(_disableOptimizations) ? ["-gcflags=all=-N -l"] : [],
            Ldflags = r.GetValue(_ldflags) ?? [],
            Sbom = r.GetValue(_sbom) is { } sbom ? Ko.Engine.Sbom.SbomOptionValues.ParseFormat(sbom) : null,
            SbomDirectory = r.GetValue(_sbomDir),
            SbomAttach = r.GetValue(_sbomAttach) is { } attach ? Ko.Engine.Sbom.SbomOptionValues.ParseAttachment(attach) : Ko.Engine.Sbom.SbomAttachment.Referrers,
            SignKey = r.GetValue(_signKey),
            SignAnnotations = KeyValues(r.GetValue(_signAnnotations)),
            AttestSbom = r.GetValue(_attestSbom),
            Environment = environment,
            Compression = r.GetValue(_compression) == "zstd" ? Ko.Engine.Layers.LayerCompression.Zstd : Ko.Engine.Layers.LayerCompression.Gzip,
            BuildRecordPath = _readsRecord ? null : r.GetValue(_buildRecord),
        };
    }

    /// <summary>The build record to read (resolve, apply, create); null for build, which writes it.</summary>
    public string? RecordToRead(ParseResult r) => _readsRecord ? r.GetValue(_buildRecord) : null;

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
