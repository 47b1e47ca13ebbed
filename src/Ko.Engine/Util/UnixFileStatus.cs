using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Ko.Engine.Util;

/// <summary>What kind of thing a path names, as the file system says (not the .NET attributes, which cannot tell a FIFO from a file).</summary>
internal enum FileKind
{
    /// <summary>The kind could not be asked for (not Linux) or the path could not be examined.</summary>
    Unknown,
    Regular,
    Directory,
    SymbolicLink,
    Fifo,
    CharacterDevice,
    BlockDevice,
    Socket,
}

/// <summary>
/// File kind and identity from Linux <c>statx(2)</c>, which examines a path without opening it (opening a FIFO for
/// reading blocks until a writer comes; reading a device may never end). <c>struct statx</c> has one layout on every
/// architecture, so no per-architecture <c>struct stat</c> is needed. Elsewhere the answer is <see cref="FileKind.Unknown"/>.
/// </summary>
internal static class UnixFileStatus
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const uint StatxType = 0x1;
    private const uint StatxIno = 0x100;
    private const int StatxSize = 256;
    private const int ModeOffset = 28;
    private const int InoOffset = 32;
    private const int SizeOffset = 40;
    private const int CtimeOffset = 96;
    private const int MtimeOffset = 112;
    private const uint StatxBasicStats = 0x7ff;
    private const int DevMajorOffset = 136;
    private const int DevMinorOffset = 140;

    // statx is looked up in the process's global symbols (the C library the runtime already loaded: glibc 2.28+ or
    // musl 1.2.5+), so no C library file name is guessed ("libc.so" is a linker script where libc6-dev is installed,
    // and absent where it is not).
    private static readonly StatxFunction? Statx = LoadStatx();

    private delegate int StatxFunction(int dirFd, [MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags, uint mask, [Out] byte[] buffer);

    /// <summary>Whether statx can be asked here (Linux with a C library that has it); elsewhere every answer is "unknown".</summary>
    public static bool IsAvailable => Statx is not null;

    /// <summary>The kind of <paramref name="path"/>; with <paramref name="followLinks"/> the kind of what a link finally names.</summary>
    public static FileKind KindOf(string path, bool followLinks)
    {
        var buffer = new byte[StatxSize];
        if (!TryStatx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, buffer))
        {
            return FileKind.Unknown;
        }

        return KindOfMode(BitConverter.ToUInt16(buffer, ModeOffset));
    }

    /// <summary>The kind a <c>st_mode</c> names (its S_IFMT bits).</summary>
    public static FileKind KindOfMode(ushort mode)
    {
        return (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.SymbolicLink,
            0x1000 => FileKind.Fifo,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
    }

    /// <summary>A sentence fragment for people: "a FIFO (named pipe)", "a character device", ...</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Fifo => "a FIFO (named pipe)",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a Unix socket",
        FileKind.SymbolicLink => "a symbolic link",
        FileKind.Directory => "a directory",
        FileKind.Regular => "a regular file",
        _ => "a special file",
    };

    /// <summary>The (device, inode) a path names without following a final link, or null when it cannot be told.</summary>
    public static (ulong Device, ulong Inode)? IdentityOf(string path)
    {
        var buffer = new byte[StatxSize];
        return TryStatx(AtFdCwd, path, AtSymlinkNoFollow, buffer) ? Identity(buffer) : null;
    }

    /// <summary>The (device, inode) of an open file, or null when it cannot be told.</summary>
    public static (ulong Device, ulong Inode)? IdentityOf(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            var buffer = new byte[StatxSize];
            return TryStatx((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, buffer) ? Identity(buffer) : null;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    /// <summary>
    /// A stat fingerprint of <paramref name="path"/> (device, inode, mode, size, modification and change times to the
    /// nanosecond), as git's index keeps one: any write, chmod, rename over or touch changes it, and the change time
    /// cannot be set back by a program. Null when it cannot be told (not Linux, no such path).
    /// </summary>
    public static FileFingerprint? FingerprintOf(string path, bool followLinks)
    {
        var buffer = new byte[StatxSize];
        if (Statx is null || Statx(AtFdCwd, path, followLinks ? 0 : AtSymlinkNoFollow, StatxBasicStats, buffer) != 0)
        {
            return null;
        }

        var (device, inode) = Identity(buffer);
        return new FileFingerprint(
            device,
            inode,
            BitConverter.ToUInt16(buffer, ModeOffset),
            BitConverter.ToInt64(buffer, SizeOffset),
            Nanoseconds(buffer, MtimeOffset),
            Nanoseconds(buffer, CtimeOffset));
    }

    private static long Nanoseconds(byte[] buffer, int offset) =>
        (BitConverter.ToInt64(buffer, offset) * 1_000_000_000L) + BitConverter.ToUInt32(buffer, offset + 8);

    private static (ulong, ulong) Identity(byte[] buffer) =>
        (((ulong)BitConverter.ToUInt32(buffer, DevMajorOffset) << 32) | BitConverter.ToUInt32(buffer, DevMinorOffset), BitConverter.ToUInt64(buffer, InoOffset));

    private static bool TryStatx(int dirFd, string path, int flags, byte[] buffer) =>
        Statx is not null && Statx(dirFd, path, flags, StatxType | StatxIno, buffer) == 0;

    private static StatxFunction? LoadStatx()
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        return NativeLibrary.TryGetExport(NativeLibrary.GetMainProgramHandle(), "statx", out var address)
            ? Marshal.GetDelegateForFunctionPointer<StatxFunction>(address)
            : null;
    }
}
