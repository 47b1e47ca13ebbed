using Ko.Engine.Configuration;
using Ko.Engine.Go;
using Ko.Engine.Publishing;
using Ko.Engine.Sinks;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// The plan stage: every option, <c>.ko.yaml</c> key and environment variable read once into a <see cref="BuildPlan"/>,
/// checked before anything runs (import paths from YAML and command lines, the repository to push to).
/// </summary>
internal static class PlanStage
{
    public static BuildPlan Create(KoBuildOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        var plan = BuildPlan.Create(options);
        ImportPaths.Validate(plan.ImportPaths); // data from YAML and command lines, before anything runs
        foreach (var warning in plan.Warnings)
        {
            logger.LogWarning("{Warning}", warning);
        }

        // Signing: what a build pushes, or (signed for the registry name it will be pushed to) what it writes to an OCI layout.
        if (plan.SignKey is not null && !plan.Push && (plan.OciLayoutPath is null || BuildPlan.IsLocalRepository(plan.Repository)))
        {
            throw new KoException(KoErrorCodes.InvalidOption, "--sign-key signs the images a build pushes or writes to --oci-layout-path under KO_DOCKER_REPO, and this build does neither: drop --push=false/--local, set KO_DOCKER_REPO with --oci-layout-path, or sign later with `dotnet ko push --sign-key`.");
        }

        if (plan.Push)
        {
            // Fail before any build when the images' names cannot be pushed (KO_DOCKER_REPO may be a bare
            // registry host such as localhost:5000 unless --bare makes that the whole name).
            RegistryPublisher.ValidateRepository(Naming.ImageName(plan.Repository, "example.com/app", plan.Naming));
        }

        return plan;
    }

    // Go allows '~' and '+' (and more) in package directories; a repository name does not, and an image name made
    // from one would be written, printed and pushed as a reference that is none.
    public static void ValidateImageNames(BuildPlan plan, IReadOnlyList<GoPackage> packages)
    {
        foreach (var package in packages)
        {
            var name = Naming.ImageName(plan.Repository, package.ImportPath, plan.Naming);
            if (!References.ImageReference.TryParse(name, out _, out var error))
            {
                throw new KoException(KoErrorCodes.InvalidOption, $"the image name '{References.ImageReference.Redact(name)}' made from {package.ImportPath} is not a valid reference: {error}. Choose a lower-case repository to push to, and rename a package directory that has other characters than lower-case letters, digits, '.', '_' and '-' (or name the image with --bare).") { ImportPath = package.Pattern };
            }
        }
    }
}
