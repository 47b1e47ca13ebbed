using System.CommandLine;
using Ko.Engine;
using Ko.Engine.Configuration;

namespace Ko.Cli;

/// <summary>
/// <c>dotnet ko push SOURCE</c>: publishes an image or index built earlier (<c>oci:DIR[:REF]</c>,
/// <c>oci-archive:FILE[:REF]</c>, <c>docker-archive:FILE</c>) to <c>KO_DOCKER_REPO</c> or <c>--to NAME</c>, with its
/// SBOMs, and prints the reference. ko has no such command: build in one CI job, scan, push in a later one.
/// </summary>
internal static class PushCommand
{
    public static Command Create(Option<bool> verbose, TextWriter output, TextWriter error, IReadOnlyDictionary<string, string?>? environment)
    {
        var source = new Argument<string>("SOURCE") { Description = "What to publish: oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG] or a registry reference." };
        var to = new Option<string?>("--to") { Description = "The image name to push to (REGISTRY/REPOSITORY); default: KO_DOCKER_REPO/<the name's last component in the source>." };
        var tags = new Option<string[]>("--tags", "-t") { Description = "Tags to apply, repeatable or comma separated (default latest)." };
        var bare = new Option<bool>("--bare") { Description = "Push to KO_DOCKER_REPO itself, not to a name under it." };
        var insecure = new Option<bool>("--insecure-registry") { Description = "Use plain HTTP and skip TLS verification for the registries." };
        var sbomAttach = new Option<string?>("--sbom-attach") { Description = "How the source's SBOMs are attached: referrers (default) or tag (ko's sha256-<hex>.sbom)." };
        var workingDir = new Option<string?>("--working-dir", "-C") { Description = "Where relative source paths start." };
        var imageRefs = new Option<string?>("--image-refs") { Description = "Also write the printed reference (and the SBOMs' references) to this file." };
        var signKey = new Option<string?>("--sign-key") { Description = "Sign the pushed index and each image in cosign's format with this private key (password from KO_SIGN_PASSWORD). Default: KO_SIGN_KEY." };
        var signAnnotations = new Option<string[]>("--sign-annotation") { Description = "key=value written into each signature's optional section, repeatable." };
        var attestSbom = new Option<bool>("--attest-sbom") { Description = "Also attest each SBOM stored beside the image as a signed in-toto statement (.att)." };

        var cmd = new Command("push", "Publish an image or index built earlier (an OCI layout or archive, a docker archive) to a registry, keeping its digest.");
        cmd.Arguments.Add(source);
        foreach (var o in new Option[] { to, tags, bare, insecure, sbomAttach, workingDir, imageRefs, signKey, signAnnotations, attestSbom })
        {
            cmd.Options.Add(o);
        }

        cmd.SetAction(async (ParseResult r, CancellationToken ct) =>
        {
            var display = ProgressDisplay.Create(error, r.GetValue(verbose), environment);
            var options = new KoPushOptions
            {
                Source = r.GetValue(source)!,
                To = r.GetValue(to),
                Tags = r.GetValue(tags) ?? [],
                Bare = r.GetValue(bare),
                InsecureRegistry = r.GetValue(insecure),
                SbomAttach = r.GetValue(sbomAttach) is { } attach ? Ko.Engine.Sbom.SbomOptionValues.ParseAttachment(attach) : Ko.Engine.Sbom.SbomAttachment.Referrers,
                WorkingDirectory = r.GetValue(workingDir),
                ImageRefsPath = r.GetValue(imageRefs),
                Environment = environment,
                SignKey = r.GetValue(signKey),
                SignAnnotations = SigningInput.KeyValues(r.GetValue(signAnnotations)),
                AttestSbom = r.GetValue(attestSbom),
            };
            var engine = new KoEngine(display.Logger, display);
            var result = await display.RunAsync(() => engine.PushAsync(options, ct)).ConfigureAwait(false);
            await KoCli.WriteResultAsync(output, result.Reference + output.NewLine).ConfigureAwait(false);
            return 0;
        });
        return cmd;
    }
}
