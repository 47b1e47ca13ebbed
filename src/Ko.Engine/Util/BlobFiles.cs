using System.Runtime.InteropServices;

namespace Ko.Engine.Util;

/// <summary>How <see cref="BlobFiles.LinkOrCopy"/> placed a blob.</summary>
internal enum BlobPlacement
{
    /// <summary>A hard link to the cache's blob (same file system): no bytes copied.</summary>
    Linked,

    /// <summary>A copy (another file system, or links not allowed there).</summary>
    Copied,
}

/// <summary>
/// Puts content-store blobs into outputs (an OCI layout's <c>blobs/sha256/</c>) without copying their bytes when it
/// can. A link shares the file with the cache, so the blob is made read-only first (0444: a program that opens it
/// for writing is refused, unless it runs as root), and whatever writes through the link anyway changes the blob's
/// change time, which the layer cache's stat fingerprint notices: the blob is then hashed, found wrong and deleted
/// from the cache instead of being used (<see cref="Layers.LayerCache"/>). A write that replaces the output file
/// (a new file renamed over it, as tools that edit layouts do) never reaches the cache.
/// </summary>
internal static class BlobFiles
{
    /// <summary>The mode of a blob that may be shared by links (0444); <see cref="Layers.LayerWriter"/> gives new layers this mode.</summary>
    internal const UnixFileMode ReadOnly = UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private static readonly LinkFunction? Link = LoadLink();

    private delegate int LinkFunction([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    /// <summary>
    /// Makes <paramref name="destination"/> hold the bytes of <paramref name="source"/>: a hard link when both are on
    /// one file system, a copy otherwise. The destination appears whole or not at all (written beside it, then
    /// renamed over it); an existing destination is replaced.
    /// </summary>
    /// <exception cref="IOException">Neither a link nor a copy could be made.</exception>
    public static BlobPlacement LinkOrCopy(string source, string destination)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(destination))!;
        var temp = Path.Combine(directory, $".{Path.GetFileName(destination)}.tmp-{StaleTemporaries.NameToken()}");
        try
        {
            var placement = TryLink(source, temp) ? BlobPlacement.Linked : BlobPlacement.Copied;
            if (placement == BlobPlacement.Copied)
            {
                File.Copy(source, temp, overwrite: false);
            }

            File.Move(temp, destination, overwrite: true);
            return placement;
        }
        finally
        {
            FileSystem.TryDelete(temp);
        }
    }

    /// <summary>True when both paths name one file (the same device and inode), as a link makes them.</summary>
    public static bool AreSameFile(string a, string b) =>
        UnixFileStatus.IdentityOf(a) is { } x && UnixFileStatus.IdentityOf(b) is { } y && x == y;

    private static bool TryLink(string source, string temp)
    {
        if (Link is null || !OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            // Read-only before it is shared: from now on only a root writer (or a chmod) can change it in place. Only
            // when it is not yet: a chmod changes the file's change time, which would cost the layer cache a re-hash.
            if (File.GetUnixFileMode(source) != ReadOnly)
            {
                File.SetUnixFileMode(source, ReadOnly);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false; // not ours to protect (another user's cache): copy instead
        }

        // Anything but success (EXDEV: another file system; EPERM, EMLINK, ENOTSUP: links refused or at their
        // limit) means copy.
        return Link(source, temp) == 0;
    }

    private static LinkFunction? LoadLink()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "link", out var address)
            ? Marshal.GetDelegateForFunctionPointer<LinkFunction>(address)
            : null;
    }
}
