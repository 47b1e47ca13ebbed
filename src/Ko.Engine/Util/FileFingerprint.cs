namespace Ko.Engine.Util;

/// <summary>
/// What <c>statx(2)</c> says about a file, enough to notice that it changed without reading it (see
/// <see cref="UnixFileStatus.FingerprintOf"/>). Times are nanoseconds since the Unix epoch.
/// </summary>
internal readonly record struct FileFingerprint(ulong Device, ulong Inode, ushort Mode, long Size, long ModifiedNs, long ChangedNs)
{
    /// <summary>
    /// How long after a file's last change a fingerprint is trusted to catch the next one: file times come from a
    /// coarse kernel clock (one tick, up to 10 ms), so a write in the same tick as the fingerprint would leave every
    /// field as it was (git's "racily clean" entries).
    /// </summary>
    public static readonly TimeSpan RacyWindow = TimeSpan.FromMilliseconds(30);

    /// <summary>
    /// The window for a file system that keeps whole seconds only (FAT keeps two, some network file systems one):
    /// there a same-size write a second after the fingerprint can keep every field.
    /// </summary>
    public static readonly TimeSpan CoarseRacyWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// True when the file changed so recently that a write in the same clock tick could go unnoticed. Times without
    /// a nanosecond part (both of them) come from a file system with whole-second times: the window is two seconds.
    /// </summary>
    public bool IsRacy(DateTimeOffset now)
    {
        var window = ModifiedNs % 1_000_000_000L == 0 && ChangedNs % 1_000_000_000L == 0 ? CoarseRacyWindow : RacyWindow;
        return Math.Max(ModifiedNs, ChangedNs) / 100 > (now - window).ToUnixTimeMilliseconds() * 10_000L;
    }

    /// <summary>The fingerprint as one token for cache keys and entries.</summary>
    public override string ToString() => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{Device:x}:{Inode}:{Mode}:{Size}:{ModifiedNs}:{ChangedNs}");
}
