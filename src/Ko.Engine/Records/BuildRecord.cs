using Ko.Engine.Util;
using System.Text.Json;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;

namespace Ko.Engine.Records;

/// <summary>
/// What a build made, one entry per import path: reference, digest, media type, each platform's image, tags, SBOMs
/// and the base. <c>build --build-record FILE</c> writes it as JSON; <c>resolve</c>, <c>apply</c> and <c>create</c>
/// with the same file replace <c>ko://</c> references from it and build nothing, so a deploy job ships exactly
/// what the publish job built. A record read from a file is outside input and is checked field by field.
/// </summary>
public sealed class BuildRecord
{
    /// <summary>The value of the record's <c>schema</c> field; a record with another value is refused.</summary>
    public const string Schema = "https://koaddins.dev/build-record/v1";

    /// <summary>The largest record file read (16 MiB).</summary>
    public const long MaxFileBytes = 16 << 20;

    private const int MaxImages = 10_000;
    private const int MaxListItems = 1_000;
    private const int MaxStringLength = 4_096;

    private readonly Dictionary<string, KoImageResult> _byImportPath;

    /// <summary>A record of these images (one per import path).</summary>
    /// <param name="images">The images, e.g. <see cref="KoBuildResult.Images"/>.</param>
    /// <param name="source">Where the record came from, for messages (a file path, or <c>the build result</c>).</param>
    /// <exception cref="KoException"><c>KO4021</c> when two images have the same import path.</exception>
    public BuildRecord(IEnumerable<KoImageResult> images, string source = "the build result")
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(source);
        Images = images.ToList();
        Source = source;
        _byImportPath = new Dictionary<string, KoImageResult>(StringComparer.Ordinal);
        foreach (var image in Images)
        {
            if (!_byImportPath.TryAdd(image.ImportPath, image))
            {
                throw new KoException(KoErrorCodes.BuildRecordInvalid, $"{source}: {image.ImportPath} is recorded twice; a build record holds one image per import path. Write the record again with dotnet ko build --build-record.");
            }
        }
    }

    /// <summary>The recorded images, in the order they were built.</summary>
    public IReadOnlyList<KoImageResult> Images { get; }

    /// <summary>Where the record came from: its file, or <c>the build result</c>.</summary>
    public string Source { get; }

    /// <summary>The recorded image of an import path (as Go reports it, e.g. <c>example.com/hello</c>).</summary>
    /// <param name="importPath">The import path, without <c>ko://</c>.</param>
    /// <param name="image">The image, when recorded.</param>
    /// <returns>True when the import path is in the record.</returns>
    public bool TryGet(string importPath, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KoImageResult? image) =>
        _byImportPath.TryGetValue(importPath, out image);

    /// <summary>Writes the record of <paramref name="images"/> to <paramref name="path"/> atomically (a failure leaves the previous file).</summary>
    /// <param name="path">The record file.</param>
    /// <param name="images">The images built.</param>
    /// <param name="cancellationToken">Cancels the write.</param>
    /// <exception cref="KoException"><c>KO3001</c> when the file cannot be written.</exception>
    public static Task WriteAsync(string path, IReadOnlyList<KoImageResult> images, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        var bytes = new BuildRecord(images, path).ToJson();
        return AtomicOutput.WriteFileAsync(path, (s, ct) => s.WriteAsync(bytes, ct).AsTask(), cancellationToken);
    }

    /// <summary>The build's call: writes the record when <paramref name="path"/> is set (relative to the working directory, as the other outputs).</summary>
    internal static Task WriteAsync(string? path, string workingDirectory, IReadOnlyList<KoImageResult> images, CancellationToken cancellationToken) =>
        string.IsNullOrWhiteSpace(path) ? Task.CompletedTask : WriteAsync(Path.GetFullPath(path, workingDirectory), images, cancellationToken);

    /// <summary>Reads a record file written by <see cref="WriteAsync(string, IReadOnlyList{KoImageResult}, CancellationToken)"/>, checking every field.</summary>
    /// <param name="path">The record file (at most <see cref="MaxFileBytes"/>).</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns>The record.</returns>
    /// <exception cref="KoException"><c>KO4021</c> naming the file and the field when it is not a build record.</exception>
    public static async Task<BuildRecord> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes;
        try
        {
            bytes = await Util.BoundedFile.ReadAsync(Path.GetFullPath(path), MaxFileBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            throw new KoException(KoErrorCodes.BuildRecordInvalid, $"cannot read the build record {path}: {Util.SystemMessage.Of(ex)} Name the file that dotnet ko build --build-record wrote.", ex);
        }

        return Parse(bytes, path);
    }

    /// <summary>Parses record JSON; <paramref name="source"/> names it in errors.</summary>
    /// <param name="json">The UTF-8 JSON.</param>
    /// <param name="source">The file name, for messages.</param>
    /// <returns>The record.</returns>
    /// <exception cref="KoException"><c>KO4021</c> naming the field when it is not a build record.</exception>
    public static BuildRecord Parse(ReadOnlyMemory<byte> json, string source) => BuildRecordJson.Parse(json, source);

    /// <summary>The record as indented UTF-8 JSON (what <see cref="WriteAsync(string, IReadOnlyList{KoImageResult}, CancellationToken)"/> writes).</summary>
    /// <returns>The JSON bytes.</returns>
    public byte[] ToJson() => BuildRecordJson.Write(this);

    internal static (int Images, int Items, int Length) Limits => (MaxImages, MaxListItems, MaxStringLength);
}
