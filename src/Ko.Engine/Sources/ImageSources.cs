using Ko.Engine.Layers;
using Ko.Engine.References;
using Ko.Engine.Registry;

namespace Ko.Engine.Sources;

/// <summary>
/// Opens an image source from its spec: <c>oci:DIR[:REF]</c>, <c>oci-archive:FILE[:REF]</c>,
/// <c>docker-archive:FILE[:NAME:TAG]</c>, <c>embedded:static</c>, <c>scratch</c>, and a registry reference
/// (<c>[docker://][REGISTRY/]REPOSITORY[:TAG][@DIGEST]</c>). As skopeo, a path ends at its first colon; what follows is
/// the reference name. A malformed spec is KO3014; a missing file or directory KO3015.
/// </summary>
internal static class ImageSources
{
    private const string Forms = "write oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:NAME:TAG], embedded:static, scratch, or a registry reference [docker://][REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST]";

    // Transports skopeo knows that this tool does not read: named, so that they are not taken for a registry host.
    private static readonly string[] Unsupported = ["dir:", "containers-storage:", "docker-daemon:", "ostree:", "sif:", "tarball:", "embedded:"];

    /// <summary>Opens the source <paramref name="spec"/> names; paths are relative to <paramref name="workingDirectory"/>.</summary>
    /// <param name="spec">The source as written.</param>
    /// <param name="workingDirectory">The directory relative paths start from.</param>
    /// <param name="registry">The registry settings, asked for only when the spec is a registry reference.</param>
    /// <param name="store">The content store, needed only for <c>embedded:static</c>.</param>
    /// <param name="cache">The layer cache, needed only for <c>embedded:static</c>.</param>
    /// <param name="cancellationToken">Cancels the open.</param>
    public static async Task<IImageSource> OpenAsync(string spec, string workingDirectory, Func<RegistryOptions> registry, ContentStore? store, LayerCache? cache, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var s = spec.Trim();
        switch (s)
        {
            case Images.SyntheticBase.ScratchName:
                return new SyntheticSource(Images.SyntheticBase.Scratch());
            case Images.SyntheticBase.EmbeddedStaticName:
                if (store is null || cache is null)
                {
                    throw new KoException(KoErrorCodes.InvalidSource, $"image source '{spec}' needs the layer cache, which this caller does not give; {Forms}.");
                }

                return new SyntheticSource(await Images.SyntheticBase.EmbeddedStaticAsync(store, cache, cancellationToken).ConfigureAwait(false));
        }

        if (s.StartsWith("oci:", StringComparison.Ordinal))
        {
            var (dir, refName) = Split(spec, s["oci:".Length..], workingDirectory);
            if (!Directory.Exists(dir))
            {
                throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{spec}': the directory {dir} does not exist. Write a layout with `dotnet ko build --oci-layout-path` or `skopeo copy ... oci:DIR`.");
            }

            return new OciLayoutSource(s, _ => Task.FromResult<LayoutFiles>(new DirectoryFiles(dir)), refName, $"oci:{dir}:REF");
        }

        if (s.StartsWith("oci-archive:", StringComparison.Ordinal))
        {
            var (file, refName) = Split(spec, s["oci-archive:".Length..], workingDirectory);
            RequireFile(spec, file);
            return new OciLayoutSource(s, async ct => new TarFiles(await TarIndex.ReadAsync(file, ct).ConfigureAwait(false), $"the OCI archive {file}"), refName, $"oci-archive:{file}:REF");
        }

        if (s.StartsWith("docker-archive:", StringComparison.Ordinal))
        {
            var (file, refName) = Split(spec, s["docker-archive:".Length..], workingDirectory);
            RequireFile(spec, file);
            return new DockerArchiveSource(s, file, refName);
        }

        if (Unsupported.FirstOrDefault(p => s.StartsWith(p, StringComparison.Ordinal)) is { } transport)
        {
            throw new KoException(KoErrorCodes.InvalidSource, $"image source '{spec}': the transport '{transport}' is not one this tool reads; {Forms}.");
        }

        var registryForm = s.StartsWith("docker://", StringComparison.Ordinal);
        if (!registryForm && LocalPath(s, workingDirectory) is { } local)
        {
            // "out" or "./image.tar" would otherwise be docker.io/library/out: say which transport was meant.
            var hint = Directory.Exists(local) ? $"oci:{s}" : $"oci-archive:{s} or docker-archive:{s}";
            throw new KoException(KoErrorCodes.InvalidSource, $"image source '{spec}' is a local {(Directory.Exists(local) ? "directory" : "file")}, not a registry reference: write {hint} (or docker://{s} for the registry).");
        }

        var text = registryForm ? s["docker://".Length..] : s;
        var reference = ImageReference.Parse(text, KoErrorCodes.InvalidSource);
        return OpenRegistry(reference, registry);
    }

    // Kept apart so that runs without a registry source never load the HTTP stack.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static RegistrySource OpenRegistry(ImageReference reference, Func<RegistryOptions> registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        return new RegistrySource(reference, new RegistryClient(reference.ApiHost, registry()));
    }

    /// <summary>The full path when <paramref name="s"/> (with no transport) names an existing file or directory.</summary>
    private static string? LocalPath(string s, string workingDirectory)
    {
        try
        {
            var full = Path.GetFullPath(s, workingDirectory);
            return File.Exists(full) || Directory.Exists(full) ? full : null;
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return null;
        }
    }

    /// <summary>PATH[:REF]: the path ends at the first colon; neither part may be empty.</summary>
    private static (string Path, string? RefName) Split(string spec, string rest, string workingDirectory)
    {
        string? refName = null;
        var colon = rest.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            refName = rest[(colon + 1)..];
            rest = rest[..colon];
        }

        if (string.IsNullOrWhiteSpace(rest) || refName is { Length: 0 } || rest.Contains('\0', StringComparison.Ordinal))
        {
            throw new KoException(KoErrorCodes.InvalidSource, $"image source '{spec}' is malformed: {Forms}.");
        }

        return (Path.TrimEndingDirectorySeparator(Path.GetFullPath(rest, workingDirectory)), refName);
    }

    private static void RequireFile(string spec, string file)
    {
        if (Directory.Exists(file))
        {
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{spec}': {file} is a directory; an archive is a file (for a layout directory write oci:{file}).");
        }

        if (!File.Exists(file))
        {
            throw new KoException(KoErrorCodes.SourceNotFound, $"image source '{spec}': the file {file} does not exist.");
        }
    }
}
