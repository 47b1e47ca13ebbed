namespace Ko.Engine.Sources;

/// <summary>
/// The files of an image layout or archive, by relative path (<c>index.json</c>, <c>blobs/sha256/HEX</c>): a
/// directory on disk or the entries of a tar. Small files are read whole with a bound; blobs are opened as streams.
/// Problems with the content are <see cref="FormatException"/>s naming the file.
/// </summary>
internal abstract class LayoutFiles
{
    /// <summary>What holds the files, for messages: "the OCI layout /x", "the OCI archive /x.tar".</summary>
    public abstract string Description { get; }

    /// <summary>True when a regular file (or, for a directory, any file) is at <paramref name="relativePath"/>.</summary>
    public abstract bool Exists(string relativePath);

    /// <summary>The size of the regular file at <paramref name="relativePath"/>; a missing file, a link or a special file is a <see cref="FormatException"/>.</summary>
    public abstract long SizeOf(string relativePath);

    /// <summary>The whole file, which must hold at most <paramref name="maxBytes"/> bytes.</summary>
    public abstract Task<byte[]> ReadAsync(string relativePath, long maxBytes, CancellationToken cancellationToken);

    /// <summary>Opens the file's bytes for streaming; the caller disposes the stream.</summary>
    public abstract ValueTask<Stream> OpenAsync(string relativePath, CancellationToken cancellationToken);

    /// <summary>The relative path of a blob.</summary>
    public static string BlobPath(Oci.Digest digest) => $"blobs/{digest.Algorithm}/{digest.Hex}";
}
