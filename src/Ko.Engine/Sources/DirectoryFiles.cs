namespace Ko.Engine.Sources;

/// <summary>The files of an OCI image layout directory. Special files (FIFOs, devices) are refused before they are opened.</summary>
internal sealed class DirectoryFiles(string directory) : LayoutFiles
{
    /// <summary>The layout's full path.</summary>
    public string Directory { get; } = directory;

    public override string Description => $"the OCI layout {Directory}";

    public override bool Exists(string relativePath) => File.Exists(Full(relativePath));

    public override long SizeOf(string relativePath)
    {
        var path = Full(relativePath);
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FormatException($"{path} is missing from {Description}.");
        }

        // Asked without opening it: a FIFO would block the copy, a device would never end.
        var kind = Util.UnixFileStatus.KindOf(path, followLinks: true);
        if (kind is not (Util.FileKind.Regular or Util.FileKind.Unknown))
        {
            throw new FormatException($"{path} is {Util.UnixFileStatus.Describe(kind)}, not a regular file.");
        }

        return info.Length;
    }

    public override Task<byte[]> ReadAsync(string relativePath, long maxBytes, CancellationToken cancellationToken)
    {
        var path = Full(relativePath);
        if (!File.Exists(path))
        {
            throw new FormatException($"{path} is missing from {Description}.");
        }

        return Util.BoundedFile.ReadAsync(path, maxBytes, cancellationToken);
    }

    public override ValueTask<Stream> OpenAsync(string relativePath, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult<Stream>(new FileStream(Full(relativePath), FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan));
    }

    private string Full(string relativePath) => Path.Combine(Directory, relativePath);
}
