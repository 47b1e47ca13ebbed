using System.Text;

namespace Ko.Engine.Util;

/// <summary>
/// A tree walk remembered by the stat fingerprints of everything it examined, so that a later run can confirm that
/// nothing changed by examining the recorded paths again, without listing a directory or hashing anything. Adding,
/// removing or renaming an entry changes its directory's modification and change times, and every directory of the
/// walk is recorded; writing or chmod-ing a file changes its own. So while every recorded fingerprint is the same,
/// the key the walk produced still holds (git's untracked cache trusts directory times the same way). The walk only
/// records fingerprints that were outside the racy window when taken, so a later write cannot keep one.
/// A record that is missing, damaged, for another walk or out of date is only a miss.
/// </summary>
internal static class StatRecord
{
    private const string Magic = "ko-stat-record-v1";
    private const int MaxBytes = 32 << 20;
    private const int MaxEntries = 500_000;
    private const int MaxString = 64 << 10;

    /// <summary>Where the record of the walk named <paramref name="identity"/> lives under a cache root.</summary>
    public static string PathFor(string cacheRoot, string identity) =>
        Path.Combine(cacheRoot, "stat-records", Layers.CacheKey.Of(Magic, identity));

    /// <summary>
    /// The key recorded for <paramref name="identity"/> when every path recorded with it still has its fingerprint;
    /// otherwise null (and the caller walks again).
    /// </summary>
    public static async Task<string?> TryReuseAsync(string file, string identity, CancellationToken cancellationToken)
    {
        if (!UnixFileStatus.IsAvailable || !File.Exists(file))
        {
            return null;
        }

        byte[] bytes;
        try
        {
            bytes = await BoundedFile.ReadAsync(file, MaxBytes, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }

        return Matches(bytes, identity);
    }

    /// <summary>
    /// Records a walk: its key and every path it examined with the fingerprint it had. Best effort: a cache that
    /// cannot be written only means the next run walks again.
    /// </summary>
    public static void Save(string file, string identity, IReadOnlyList<(string Path, FileFingerprint Stat)> examined, string key)
    {
        if (examined.Count > MaxEntries)
        {
            return;
        }

        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer, Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(Magic);
            writer.Write(identity);
            writer.Write(key);
            writer.Write(examined.Count);
            foreach (var (path, f) in examined)
            {
                writer.Write(path);
                writer.Write(f.Device);
                writer.Write(f.Inode);
                writer.Write(f.Mode);
                writer.Write(f.Size);
                writer.Write(f.ModifiedNs);
                writer.Write(f.ChangedNs);
            }
        }

        if (buffer.Length > MaxBytes)
        {
            return;
        }

        FileSystem.TryReplace(file, buffer.ToArray()); // creates the directory; a read-only cache only means no record
    }

    private static string? Matches(byte[] bytes, string identity)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes, writable: false), Encoding.UTF8);
            if (ReadString(reader) != Magic || ReadString(reader) != identity)
            {
                return null;
            }

            var key = ReadString(reader);
            var count = reader.ReadInt32();
            if (count is < 0 or > MaxEntries)
            {
                return null;
            }

            for (var i = 0; i < count; i++)
            {
                var path = ReadString(reader);
                var recorded = new FileFingerprint(reader.ReadUInt64(), reader.ReadUInt64(), reader.ReadUInt16(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
                if (UnixFileStatus.FingerprintOf(path, followLinks: false) != recorded)
                {
                    return null;
                }
            }

            return reader.BaseStream.Position == bytes.Length && key.Length > 0 ? key : null;
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or FormatException or ArgumentException)
        {
            return null;
        }
    }

    private static string ReadString(BinaryReader reader)
    {
        // BinaryReader would allocate whatever length a damaged record claims; bound it first.
        var start = reader.BaseStream.Position;
        var length = reader.Read7BitEncodedInt();
        if (length is < 0 or > MaxString || reader.BaseStream.Length - reader.BaseStream.Position < length)
        {
            throw new FormatException("a string in the record is longer than the record");
        }

        reader.BaseStream.Position = start;
        return reader.ReadString();
    }
}
