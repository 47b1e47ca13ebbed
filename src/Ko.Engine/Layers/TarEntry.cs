namespace Ko.Engine.Layers;

/// <summary>The kind of a tar entry the engine writes.</summary>
internal enum TarEntryType : byte
{
    File = (byte)'0',
    Symlink = (byte)'2',
    Directory = (byte)'5',
}

/// <summary>One tar entry's header. Owner, group and times are explicit so the output never depends on the machine.</summary>
/// <param name="Name">The path inside the archive, without a leading slash; directories may end with '/'.</param>
/// <param name="Type">Regular file, directory or symlink.</param>
/// <param name="Mode">Permission bits (e.g. 0555 octal).</param>
/// <param name="Size">The content length for files; 0 otherwise.</param>
/// <param name="ModifiedTime">Seconds since the Unix epoch.</param>
internal sealed record TarEntry(string Name, TarEntryType Type, int Mode, long Size, long ModifiedTime)
{
    public int Uid { get; init; }

    public int Gid { get; init; }

    public string? LinkName { get; init; }

    /// <summary>
    /// Write <see cref="Name"/> exactly as given (as Go's archive/tar does): no '/' appended to a directory's name, a
    /// leading '/' kept. ko's layers are written so, and their bytes (so their digests) depend on it.
    /// </summary>
    public bool ExactName { get; init; }

    /// <summary>Extra PAX records (for example <c>SCHILY.xattr.security.capability</c>), written in ordinal key order.</summary>
    public IReadOnlyDictionary<string, byte[]>? PaxRecords { get; init; }
}
