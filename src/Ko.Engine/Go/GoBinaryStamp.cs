using Microsoft.Extensions.Logging;

namespace Ko.Engine.Go;

/// <summary>
/// What the engine knew about a cached go binary after it last used it: its Go build ID, the inputs of its app layer
/// (name, mtime, capabilities), that layer's diffID, and the binary's stat fingerprint then. Go decides whether to
/// relink from the build ID alone (and only touches the file's mtime when it does not), so a binary whose other bytes
/// changed (a flipped bit, a tool writing into the cache) would be reused forever; the stamp lets the engine notice
/// that without hashing the binary a second time: the layer's diffID already depends on every byte, and go gives a
/// relinked binary with other bytes another build ID (its second half is a hash of the content).
/// </summary>
/// <param name="BuildId">The binary's Go build ID.</param>
/// <param name="LayerInputs">Everything besides the binary that the app layer depends on.</param>
/// <param name="DiffId">The app layer's diffID when the binary was as go left it.</param>
/// <param name="Fingerprint">The binary's stat fingerprint (<see cref="Util.FileFingerprint"/>) when the stamp was written, if known.</param>
internal sealed record GoBinaryStamp(string BuildId, string LayerInputs, string DiffId, string? Fingerprint = null)
{
    private const string Header = "ko-go-binary-stamp-v2";
    private const int MaxStampBytes = 4096;

    /// <summary>The stamp's file, beside the binary.</summary>
    public static string PathOf(string binary) => binary + ".stamp";

    /// <summary>
    /// Makes the binary's layer, by build ID when that is safe, else with <paramref name="layer"/> (which hashes the
    /// binary); when go did not relink the binary since the stamp (same build ID) but the layer differs from the
    /// stamp's, deletes the binary, has go build it again (<paramref name="relink"/>) and makes the layer again.
    /// <para>
    /// The build-ID route (<paramref name="route"/>): when nothing but go touched the file since the stamp was written
    /// (its fingerprint before this run's go build is the stamp's, and go left device, inode, size and mode as they
    /// were: go's no-op build only sets the mtime) and the build ID and layer inputs are the stamp's, the layer cached
    /// under the build ID is used, provided its diffID is the stamp's. That layer was made from the binary's bytes
    /// when they were last hashed, so the image never depends on bytes that were not hashed; a binary changed in place
    /// later changes its change time (which no program can set back), misses this route and is hashed, found
    /// different and relinked.
    /// </para>
    /// Cost when nothing changed: reading the build ID (a few small reads), the small stamp file, two stats and the
    /// layer-cache entry; no hashing.
    /// </summary>
    public static async Task<T> LayerVerifiedAsync<T>(string binary, string layerInputs, Func<Task<T>> layer, Func<T, string> diffIdOf, Func<Task> relink, ILogger logger, CancellationToken cancellationToken, BuildIdRoute<T>? route = null)
        where T : struct
    {
        var stamp = Read(binary);
        var buildId = await TryReadBuildIdAsync(binary, cancellationToken).ConfigureAwait(false);
        var now = Util.UnixFileStatus.FingerprintOf(binary, followLinks: false);
        if (route is not null && buildId is not null && now is { } current && stamp is not null && OnlyGoTouched(stamp, buildId, layerInputs, route.BeforeBuild, current)
            && await route.TryGet(buildId, current.Size).ConfigureAwait(false) is { } trusted && diffIdOf(trusted) == stamp.DiffId)
        {
            if (stamp.Fingerprint != current.ToString())
            {
                Write(binary, stamp with { Fingerprint = current.ToString() });
            }

            return trusted;
        }

        var result = await layer().ConfigureAwait(false);
        var diffId = diffIdOf(result);
        if (buildId is not null && stamp is not null && stamp.BuildId == buildId && stamp.LayerInputs == layerInputs && stamp.DiffId != diffId)
        {
            logger.LogWarning("The cached go binary {Binary} no longer holds the bytes go wrote (its layer is {Actual}, it was {Recorded}); deleting it so that go relinks the program", binary, diffId, stamp.DiffId);
            Delete(binary);
            await relink().ConfigureAwait(false);
            buildId = await TryReadBuildIdAsync(binary, cancellationToken).ConfigureAwait(false);
            result = await layer().ConfigureAwait(false);
            diffId = diffIdOf(result);
        }

        if (buildId is null)
        {
            return result; // not a Go binary we can read a build ID from: nothing to compare with next time
        }

        // The fingerprint after the layer was made from the bytes: a write after it changes the change time.
        now = Util.UnixFileStatus.FingerprintOf(binary, followLinks: false);
        if (route is not null && now is { } settled)
        {
            await route.Remember(buildId, settled.Size, result).ConfigureAwait(false);
        }

        var fresh = new GoBinaryStamp(buildId, layerInputs, diffId, now?.ToString());
        if (fresh != stamp)
        {
            Write(binary, fresh);
        }

        return result;
    }

    /// <summary>
    /// True when the binary is the one the stamp describes and only go's no-op build touched it since: the stamp's
    /// build ID and layer inputs, the stamp's fingerprint just before this run's go build, and the same file (device,
    /// inode), size and mode after it.
    /// </summary>
    private static bool OnlyGoTouched(GoBinaryStamp stamp, string buildId, string layerInputs, Util.FileFingerprint? beforeBuild, Util.FileFingerprint now) =>
        stamp.BuildId == buildId
        && stamp.LayerInputs == layerInputs
        && stamp.Fingerprint is not null
        && beforeBuild is { } before
        && before.ToString() == stamp.Fingerprint
        && before.Device == now.Device && before.Inode == now.Inode && before.Size == now.Size && before.Mode == now.Mode;

    /// <summary>The binary's build ID, or null when it cannot be read (the layer step then reports the unreadable binary).</summary>
    private static async Task<string?> TryReadBuildIdAsync(string binary, CancellationToken cancellationToken)
    {
        try
        {
            return await BuildInfoReader.ReadBuildIdAsync(binary, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>The stamp beside <paramref name="binary"/>, or null when there is none or it cannot be read.</summary>
    public static GoBinaryStamp? Read(string binary)
    {
        try
        {
            using var file = new FileStream(PathOf(binary), FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
            if (file.Length > MaxStampBytes)
            {
                return null;
            }

            var buffer = new byte[file.Length];
            file.ReadExactly(buffer);
            var lines = System.Text.Encoding.UTF8.GetString(buffer).Split('\n');
            return lines.Length >= 4 && lines[0] == Header
                ? new GoBinaryStamp(lines[1], Uri.UnescapeDataString(lines[2]), lines[3], lines.Length >= 5 && lines[4].Length > 0 ? lines[4] : null)
                : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Writes the stamp beside the binary (beside it first, then renamed); a failure only costs the next check.</summary>
    public static void Write(string binary, GoBinaryStamp stamp)
    {
        var target = PathOf(binary);
        var temp = $"{target}.tmp-{Environment.ProcessId}-{Guid.NewGuid():N}";
        try
        {
            var text = string.Join('\n', Header, stamp.BuildId, Uri.EscapeDataString(stamp.LayerInputs), stamp.DiffId, stamp.Fingerprint ?? string.Empty, string.Empty);
            File.WriteAllText(temp, text);
            File.Move(temp, target, overwrite: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Util.FileSystem.TryDelete(temp);
        }
    }

    private static void Delete(string binary)
    {
        try
        {
            File.Delete(binary);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.BuildFailed, $"the cached go binary {binary} is corrupt and cannot be deleted ({ex.Message}); delete it (or the whole KOCACHE directory) and build again.", ex);
        }
    }
}
