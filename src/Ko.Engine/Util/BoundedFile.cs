namespace Ko.Engine.Util;

/// <summary>Reads small files that come from outside (an OCI layout's index.json, manifests, configs) with a bound.</summary>
internal static class BoundedFile
{
    /// <summary>
    /// The whole of <paramref name="path"/>, which must be a regular file (a FIFO blocks, a device never ends) of at
    /// most <paramref name="maxBytes"/> bytes; otherwise a <see cref="FormatException"/> naming the file.
    /// </summary>
    public static async Task<byte[]> ReadAsync(string path, long maxBytes, CancellationToken cancellationToken)
    {
        var kind = UnixFileStatus.KindOf(path, followLinks: true);
        if (kind is not (FileKind.Regular or FileKind.Unknown))
        {
            throw new FormatException($"{path} is {UnixFileStatus.Describe(kind)}, not a regular file.");
        }

        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous | FileOptions.SequentialScan);
        var length = stream.Length;
        if (length > maxBytes)
        {
            throw new FormatException($"{path} is {length} bytes, more than the {maxBytes} bytes expected there.");
        }

        var bytes = new byte[length];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return bytes;
    }
}
