namespace Ko.Engine.Sources;

/// <summary>
/// The files of a tar archive, read in place: each file is a bounded slice of the archive (no extraction, no copy).
/// Links are never followed: a needed file that is a link is refused.
/// </summary>
internal sealed class TarFiles(TarIndex index, string description) : LayoutFiles
{
    /// <summary>The archive's index.</summary>
    public TarIndex Index { get; } = index;

    public override string Description { get; } = description;

    public override bool Exists(string relativePath) => Index.Entries.TryGetValue(relativePath, out var e) && e.Kind == TarIndexKind.File;

    public override long SizeOf(string relativePath) => Entry(relativePath).Size;

    public override async Task<byte[]> ReadAsync(string relativePath, long maxBytes, CancellationToken cancellationToken)
    {
        var entry = Entry(relativePath);
        if (entry.Size > maxBytes)
        {
            throw new FormatException($"{relativePath} in {Description} is {entry.Size} bytes, more than the {maxBytes} bytes expected there.");
        }

        var bytes = new byte[entry.Size];
        using var handle = File.OpenHandle(Index.Path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var done = 0;
        while (done < bytes.Length)
        {
            var n = await RandomAccess.ReadAsync(handle, bytes.AsMemory(done), entry.Offset + done, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new FormatException($"{Description} ended inside {relativePath}; it was truncated after it was opened.");
            }

            done += n;
        }

        return bytes;
    }

    public override ValueTask<Stream> OpenAsync(string relativePath, CancellationToken cancellationToken)
    {
        var entry = Entry(relativePath);
        return Registry.SliceStream.OpenAsync(
            _ => ValueTask.FromResult<Stream>(new FileStream(Index.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan)),
            entry.Offset,
            entry.Size,
            cancellationToken);
    }

    private TarIndexEntry Entry(string relativePath)
    {
        if (!Index.Entries.TryGetValue(relativePath, out var entry))
        {
            throw new FormatException($"{relativePath} is missing from {Description}.");
        }

        return entry.Kind switch
        {
            TarIndexKind.File => entry,
            TarIndexKind.Link => throw new FormatException($"{relativePath} in {Description} is a link; links in an image archive are not followed."),
            _ => throw new FormatException($"{relativePath} in {Description} is not a regular file."),
        };
    }
}
