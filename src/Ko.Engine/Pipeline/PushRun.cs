using Ko.Engine.Configuration;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Sinks;
using Ko.Engine.Sources;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Pipeline;

/// <summary>
/// <c>dotnet ko push</c>: a source and a sink, nothing more. The artifact is read as stored (its digest is kept) and
/// written to the registry sink a build uses (HEAD first, mounts, only missing blobs; the SBOMs stored beside it
/// attached), so pushing a layout made by <c>build --push=false</c> gives the digest a direct build and push gives.
/// </summary>
internal static class PushRun
{
    public static async Task<KoPushResult> RunAsync(KoPushOptions options, ILogger logger, IProgress<KoProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = options.Environment ?? BuildPlan.ProcessEnvironment();
        var tags = Tags(options.Tags);
        var registry = BuildRun.RegistryOptionsFor(options.InsecureRegistry, environment, logger, progress);
        var workingDirectory = Path.GetFullPath(options.WorkingDirectory ?? Directory.GetCurrentDirectory());
        using var signKey = await LoadSignKeyAsync(options, environment, workingDirectory, cancellationToken).ConfigureAwait(false); // a bad key fails before anything is read or pushed
        await using var source = await ImageSources.OpenAsync(options.Source, workingDirectory, () => registry, null, null, cancellationToken).ConfigureAwait(false);
        var artifact = await source.ReadAsync(cancellationToken).ConfigureAwait(false);
        var name = TargetName(options, environment, source);
        var sboms = await source.ReadSbomsAsync(artifact, cancellationToken).ConfigureAwait(false);
        if (options.AttestSbom && sboms.Count == 0)
        {
            throw new KoException(KoErrorCodes.NoSbomToAttest, $"{source.Name} stores no SBOM beside the image, so --attest-sbom has nothing to attest; build it with --sbom spdx or cyclonedx (the default), or drop --attest-sbom.");
        }

        logger.LogInformation("Pushing {Source} ({Digest}, {Count} SBOM(s)) to {Name}", source.Name, artifact.Digest, sboms.Count, name);
        var signing = signKey is null ? null : new SigningSink(new RegistrySink(registry, options.SbomAttach), registry, signKey, options.SignAnnotations, options.AttestSbom);
        using var sink = (IImageSink?)signing ?? new RegistrySink(registry, options.SbomAttach);
        var named = new NamedArtifact(source.Name, name, artifact, sboms);
        var stored = LayoutDirectory(options.Source, workingDirectory) is { } layoutDir
            ? await Signing.LayoutSignatureCarrier.ReadAsync(layoutDir, named, cancellationToken).ConfigureAwait(false)
            : [];
        var written = await sink.WriteAsync(named, tags, cancellationToken).ConfigureAwait(false);
        await sink.CompleteAsync(cancellationToken).ConfigureAwait(false);
        var carried = await Signing.LayoutSignatureCarrier.CarryAsync(registry, stored, named, cancellationToken).ConfigureAwait(false);
        var reference = Naming.PrintedReference(name, tags, artifact.Digest.ToString(), tagOnly: false);
        if (options.ImageRefsPath is not null)
        {
            var text = string.Concat(written.Attachments.Prepend(reference).Select(x => x + "\n"));
            await Util.AtomicOutput.WriteFileAsync(options.ImageRefsPath, (s, ct) => s.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text), ct).AsTask(), cancellationToken).ConfigureAwait(false);
        }

        logger.LogInformation("Pushed {Source} as {Reference}", source.Name, reference);
        var statistics = new KoBuildStatistics(0, 0, 0, written.Pushed.BlobsUploaded, written.Pushed.BlobsSkipped, written.Pushed.BlobsMounted);
        return new KoPushResult(options.Source, name, reference, artifact.Digest, artifact.MediaType, artifact.Images.Select(i => i.Platform).ToList(), tags, written.Attachments, statistics)
        {
            Signatures = [.. carried, .. signing?.Signatures ?? []],
        };
    }

    /// <summary>The directory of an <c>oci:DIR[:REF]</c> source (whose signatures a push carries); null for other sources.</summary>
    private static string? LayoutDirectory(string source, string workingDirectory)
    {
        if (!source.StartsWith("oci:", StringComparison.Ordinal))
        {
            return null;
        }

        var rest = source["oci:".Length..];
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        return Path.TrimEndingDirectorySeparator(Path.GetFullPath(colon >= 0 ? rest[..colon] : rest, workingDirectory));
    }

    /// <summary>
    /// The push's signing key (<see cref="KoPushOptions.SignKey"/>, else <c>KO_SIGN_KEY</c>) with its password from
    /// <c>KO_SIGN_PASSWORD</c>, or null when the push does not sign; the annotations are checked first.
    /// </summary>
    private static async Task<Signing.SigningKey?> LoadSignKeyAsync(KoPushOptions options, IReadOnlyDictionary<string, string?> environment, string workingDirectory, CancellationToken cancellationToken)
    {
        var path = options.SignKey ?? (environment.GetValueOrDefault(Signing.SigningRun.KeyVariable) is { Length: > 0 } k ? k : null);
        if (path is null)
        {
            return options.AttestSbom || options.SignAnnotations.Count > 0
                ? throw new KoException(KoErrorCodes.InvalidOption, "--attest-sbom and --sign-annotation need a signing key: pass --sign-key FILE (or set KO_SIGN_KEY).")
                : null;
        }

        Signing.ImageSigner.CheckAnnotations(options.SignAnnotations);
        return await Signing.SigningKey.LoadAsync(Path.GetFullPath(path, workingDirectory), Signing.SigningRun.PasswordSource(environment, null), cancellationToken).ConfigureAwait(false);
    }

    private static IReadOnlyList<string> Tags(IReadOnlyList<string> given)
    {
        var tags = given.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).Distinct(StringComparer.Ordinal).ToList();
        if (tags.FirstOrDefault(t => !BuildPlan.IsValidTag(t)) is { } bad)
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"tag '{bad}' is not valid: a tag is up to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.");
        }

        return tags.Count == 0 ? ["latest"] : tags;
    }

    /// <summary>
    /// Where to push: <c>--to</c>; else the repository (<c>KO_DOCKER_REPO</c>) itself with <c>--bare</c>, or the
    /// repository plus the last path component of the name the source stores (a build's default and <c>-B</c> names).
    /// </summary>
    private static string TargetName(KoPushOptions options, IReadOnlyDictionary<string, string?> environment, IImageSource source)
    {
        var name = options.To?.Trim() ?? UnderRepository(options, environment, source);
        if (BuildPlan.IsLocalRepository(name))
        {
            throw new KoException(KoErrorCodes.InvalidOption, $"'{name}' is under ko.local, the local daemon's name space, which is never pushed to; set KO_DOCKER_REPO (or --to) to a registry repository.");
        }

        RegistryPublisher.ValidateRepository(name);
        return name;
    }

    private static string UnderRepository(KoPushOptions options, IReadOnlyDictionary<string, string?> environment, IImageSource source)
    {
        var repository = options.Repository ?? environment.GetValueOrDefault("KO_DOCKER_REPO");
        if (string.IsNullOrWhiteSpace(repository))
        {
            throw new KoException(KoErrorCodes.MissingRepository, "KO_DOCKER_REPO is not set: set it (or --to NAME) to the registry repository to push to.");
        }

        repository = repository.Trim().TrimEnd('/');
        if (options.Bare)
        {
            return repository;
        }

        var stored = source.StoredNames.Select(LastComponent).FirstOrDefault(n => n.Length > 0);
        return stored is null
            ? throw new KoException(KoErrorCodes.InvalidOption, $"'{source.Name}' stores no image name to push under {ImageReference.Redact(repository)}; name the target with --to REGISTRY/REPOSITORY, or push to the repository itself with --bare.")
            : $"{repository}/{stored}";
    }

    // "ko.local/hello-5f1e…:latest" → "hello-5f1e…"; a bare tag ("latest", as skopeo names layout entries) names nothing.
    private static string LastComponent(string stored)
    {
        var at = stored.IndexOf('@', StringComparison.Ordinal);
        var name = at >= 0 ? stored[..at] : stored;
        var slash = name.LastIndexOf('/');
        var colon = name.LastIndexOf(':');
        if (colon > slash)
        {
            name = name[..colon];
        }

        return slash < 0 ? string.Empty : name[(slash + 1)..];
    }
}
