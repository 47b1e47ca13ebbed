using Ko.Engine.Go;
using Ko.Engine.Layers;
using Ko.Engine.Util;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.Tests;

/// <summary>
/// A no-op rebuild finds the binary's layer by its Go build ID without hashing the binary, but only while nothing
/// but go's own no-op build (which sets the mtime) touched the file since its bytes were last hashed.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class GoBinaryBuildIdRouteTests : IDisposable
{
    private readonly TempDir _dir = new("ko-buildid");
    private readonly ContentStore _store;
    private readonly LayerCache _cache;
    private readonly string _binary;
    private readonly byte[] _original;
    private int _hashed;
    private int _relinked;

    public GoBinaryBuildIdRouteTests()
    {
        _store = new ContentStore(_dir.Combine("cache"));
        _cache = new LayerCache(_store);
        // What BuildInfoReader finds in a binary without an ELF note: go's build ID line near the start.
        _original = [0xff, .. " Go build ID: \"action/content\"\n"u8, .. Enumerable.Range(0, 4096).Select(i => (byte)i)];
        _binary = _dir.Combine("go", "app");
        Directory.CreateDirectory(_dir.Combine("go"));
        File.WriteAllBytes(_binary, _original);
    }

    public void Dispose() => _dir.Dispose();

    private async Task<AppLayers.LayerOutcome> LayerAsync(FileFingerprint? beforeBuild) =>
        await GoBinaryStamp.LayerVerifiedAsync(
            _binary,
            "app\n0\n",
            () =>
            {
                _hashed++;
                return AppLayers.BinaryLayerAsync(_store, _cache, _binary, "app", 0, CancellationToken.None);
            },
            r => r.Layer.DiffId.ToString(),
            () =>
            {
                _relinked++;
                File.WriteAllBytes(_binary, _original); // what go's relink writes
                return Task.CompletedTask;
            },
            NullLogger.Instance,
            CancellationToken.None,
            new BuildIdRoute<AppLayers.LayerOutcome>(
                beforeBuild,
                (id, size) => AppLayers.BinaryLayerByBuildIdAsync(_cache, id, size, "app", null, CancellationToken.None),
                (id, size, made) => AppLayers.RememberBinaryLayerAsync(_cache, id, size, "app", null, made.Layer, CancellationToken.None)));

    /// <summary>What go's no-op build does to its output: nothing but a new modification time.</summary>
    private FileFingerprint? GoNoOpBuild()
    {
        var before = UnixFileStatus.FingerprintOf(_binary, followLinks: false);
        File.SetLastWriteTimeUtc(_binary, DateTime.UtcNow);
        return before;
    }

    [Fact]
    public async Task After_go_only_touched_the_binary_its_layer_is_found_by_build_id_without_hashing()
    {
        var first = await LayerAsync(beforeBuild: null);
        Assert.Equal(1, _hashed);

        var second = await LayerAsync(GoNoOpBuild());
        var third = await LayerAsync(GoNoOpBuild());

        Assert.Equal(1, _hashed);
        Assert.Equal(first.Layer.Descriptor.Digest, second.Layer.Descriptor.Digest);
        Assert.Equal(first.Layer.Descriptor.Digest, third.Layer.Descriptor.Digest);
        Assert.Equal(0, _relinked);
    }

    [Fact]
    public async Task A_binary_written_in_place_with_its_mtime_kept_is_hashed_found_corrupt_and_relinked()
    {
        var first = await LayerAsync(beforeBuild: null);
        await LayerAsync(GoNoOpBuild());

        // Same build ID, same size, same mtime: only the change time (which no program can set back) tells.
        var mtime = File.GetLastWriteTimeUtc(_binary);
        var corrupt = (byte[])_original.Clone();
        corrupt[^10] ^= 0x01;
        File.WriteAllBytes(_binary, corrupt);
        File.SetLastWriteTimeUtc(_binary, mtime);

        var after = await LayerAsync(GoNoOpBuild());

        Assert.Equal(1, _relinked);
        Assert.Equal(first.Layer.Descriptor.Digest, after.Layer.Descriptor.Digest);
        Assert.Equal(_original, File.ReadAllBytes(_binary));
    }

    [Fact]
    public async Task A_binary_replaced_by_another_file_is_hashed()
    {
        await LayerAsync(beforeBuild: null);
        var replacement = _dir.Combine("go", "other");
        File.WriteAllBytes(replacement, _original);
        var before = UnixFileStatus.FingerprintOf(_binary, followLinks: false);
        File.Move(replacement, _binary, overwrite: true); // a new inode under the same name

        await LayerAsync(before);

        Assert.Equal(2, _hashed);
    }

    [Fact]
    public async Task A_stamp_whose_fingerprint_is_not_the_binary_before_the_build_means_hashing()
    {
        await LayerAsync(beforeBuild: null);
        var stamp = GoBinaryStamp.Read(_binary)!;
        Assert.NotNull(stamp.Fingerprint);
        GoBinaryStamp.Write(_binary, stamp with { Fingerprint = "0:0:0:0:0:0" });

        await LayerAsync(GoNoOpBuild());
        await LayerAsync(beforeBuild: null); // go built it new (it did not exist before): hashed too

        Assert.Equal(3, _hashed);
    }

    [Fact]
    public async Task A_layer_under_the_build_id_whose_diffid_is_not_the_stamps_is_not_used()
    {
        var first = await LayerAsync(beforeBuild: null);
        var stamp = GoBinaryStamp.Read(_binary)!;
        GoBinaryStamp.Write(_binary, stamp with { DiffId = "sha256:" + new string('1', 64) });

        var again = await LayerAsync(GoNoOpBuild());

        // Hashed, found unlike the stamp (so taken for a changed binary), relinked and hashed again.
        Assert.Equal(3, _hashed);
        Assert.Equal(1, _relinked);
        Assert.Equal(first.Layer.Descriptor.Digest, again.Layer.Descriptor.Digest);
    }
}
