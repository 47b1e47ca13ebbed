using System.Text;
using Ko.Engine.Layers;
using Ko.Engine.Oci;

namespace Ko.Engine.Images;

/// <summary>
/// The bases made in-process, with no network: <c>scratch</c> (no layers) and <c>embedded:static</c> (a
/// distroless-style static root: passwd/group with root and nonroot (65532), /home/nonroot, /tmp (1777) and the
/// build machine's CA bundle when it has one; user 65532). Both offer every common Linux platform.
/// </summary>
internal sealed class SyntheticBase : BaseImage
{
    public const string EmbeddedStaticName = "embedded:static";
    public const string ScratchName = "scratch";

    private static readonly string[] CaBundleCandidates =
    [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
    ];

    /// <summary>The platforms both generated bases offer.</summary>
    public static readonly IReadOnlyList<Platform> Offered =
    [
        new("linux", "386"),
        new("linux", "amd64"),
        new("linux", "arm", "v6"),
        new("linux", "arm", "v7"),
        new("linux", "arm64"),
        new("linux", "ppc64le"),
        new("linux", "riscv64"),
        new("linux", "s390x"),
    ];

    private readonly FileLayer? _layer;

    private SyntheticBase(string name, FileLayer? layer)
    {
        Name = name;
        _layer = layer;
    }

    public override string Name { get; }

    public override IReadOnlyList<Platform> Platforms => Offered;

    public override bool IsMultiPlatform => true;

    public static SyntheticBase Scratch() => new(ScratchName, null);

    /// <summary>True for the base names this class generates.</summary>
    public static bool IsSynthetic(string spec) => spec.Trim() is EmbeddedStaticName or ScratchName;

    public static async Task<SyntheticBase> EmbeddedStaticAsync(ContentStore store, LayerCache cache, CancellationToken cancellationToken, Microsoft.Extensions.Logging.ILogger? logger = null)
    {
        var caPath = CaBundleCandidates.FirstOrDefault(File.Exists);
        // ko's default base carries tzdata; without it time.LoadLocation fails in the image.
        var zoneSource = ZoneInfo.Locate(goroot: System.Environment.GetEnvironmentVariable("GOROOT"));
        ZoneInfo.LogSource(zoneSource, logger);

        // Stamped before anything is read: a change after this point gives the next run another stamp.
        var statKey = await StatKeyAsync(store.Root, caPath, zoneSource, cancellationToken).ConfigureAwait(false);
        if (statKey is not null && await cache.TryGetAsync(statKey, cancellationToken).ConfigureAwait(false) is { } unchanged)
        {
            return new SyntheticBase(EmbeddedStaticName, unchanged);
        }

        var ca = caPath is null ? null : await File.ReadAllBytesAsync(caPath, cancellationToken).ConfigureAwait(false);
        var zones = ZoneInfo.Read(zoneSource);
        var key = CacheKey.Of("embedded-static-v2", ca is null ? "no-ca" : Digest.Sha256(ca).ToString(), zones?.Fingerprint() ?? "no-tzdata");
        var layer = await cache.TryGetAsync(key, cancellationToken).ConfigureAwait(false);
        if (layer is null)
        {
            layer = await LayerWriter.WriteAsync(
                store,
                async (tar, ct) =>
                {
                    await WriteStaticRootAsync(tar, ca, ct).ConfigureAwait(false);
                    if (zones is not null)
                    {
                        await zones.WriteAsync(tar, ct).ConfigureAwait(false);
                    }
                },
                cancellationToken).ConfigureAwait(false);
            await cache.PutAsync(key, layer, cancellationToken).ConfigureAwait(false);
        }

        if (statKey is not null)
        {
            await cache.PutAsync(statKey, layer, cancellationToken).ConfigureAwait(false);
        }

        return new SyntheticBase(EmbeddedStaticName, layer);
    }

    /// <summary>
    /// The static root's key from <c>stat</c> alone: the CA bundle's and every time-zone entry's fingerprint (the
    /// bundle followed through its links, as it is read). Null when something changed too recently to be trusted.
    /// </summary>
    private static async Task<string?> StatKeyAsync(string cacheRoot, string? caPath, string? zoneSource, CancellationToken cancellationToken)
    {
        var ca = caPath is null ? "no-ca" : Util.UnixFileStatus.FingerprintOf(caPath, followLinks: true) is { } f && !f.IsRacy(DateTimeOffset.UtcNow) ? $"{caPath}:{f}" : null;
        var zones = await ZoneStampAsync(cacheRoot, zoneSource, cancellationToken).ConfigureAwait(false);
        return ca is null || zones is null ? null : CacheKey.Of("embedded-static-stat-v1", ca, zones);
    }

    /// <summary>
    /// The time zones' stat stamp: from the last walk's record when nothing it examined changed (1,300 statx, no
    /// directory listing or hashing), else from a new walk, which is recorded for the next run.
    /// </summary>
    private static async Task<string?> ZoneStampAsync(string cacheRoot, string? zoneSource, CancellationToken cancellationToken)
    {
        if (zoneSource is null)
        {
            return ZoneInfo.StatStamp(null);
        }

        var identity = "zoneinfo\0" + zoneSource;
        var record = Util.StatRecord.PathFor(cacheRoot, identity);
        if (await Util.StatRecord.TryReuseAsync(record, identity, cancellationToken).ConfigureAwait(false) is { } reused)
        {
            return reused;
        }

        var examined = new List<(string Path, Util.FileFingerprint Stat)>();
        var stamp = ZoneInfo.StatStamp(zoneSource, examined);
        if (stamp is not null)
        {
            Util.StatRecord.Save(record, identity, examined, stamp);
        }

        return stamp;
    }

    public override Task<IImage> GetImageAsync(Platform platform, CancellationToken cancellationToken)
    {
        var layers = _layer is null ? Array.Empty<ILayer>() : [_layer];
        var config = OciJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("architecture", platform.Architecture);
            w.WriteString("created", "1970-01-01T00:00:00Z");
            if (_layer is not null)
            {
                w.WriteStartArray("history");
                w.WriteStartObject();
                w.WriteString("created", "1970-01-01T00:00:00Z");
                w.WriteString("created_by", "KoAddins " + Name);
                w.WriteString("comment", "static root: passwd, group, nonroot home, tmp, CA certificates, time zones");
                w.WriteEndObject();
                w.WriteEndArray();
            }

            w.WriteString("os", platform.Os);
            w.WriteStartObject("rootfs");
            w.WriteString("type", "layers");
            w.WriteStartArray("diff_ids");
            foreach (var l in layers)
            {
                w.WriteStringValue(l.DiffId.ToString());
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteStartObject("config");
            if (_layer is not null)
            {
                w.WriteString("User", "65532");
                w.WriteStartArray("Env");
                w.WriteStringValue("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
                w.WriteStringValue("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
                w.WriteEndArray();
                w.WriteString("WorkingDir", "/home/nonroot");
            }

            w.WriteEndObject();
            if (platform.Variant is not null)
            {
                w.WriteString("variant", platform.Variant);
            }

            w.WriteEndObject();
        });
        var manifest = new Manifest(
            MediaTypes.OciManifest,
            new Descriptor(MediaTypes.OciConfig, Digest.Sha256(config), config.Length),
            layers.Select(l => l.Descriptor).ToList());
        IImage image = new Image(manifest.ToBytes(), config, layers, Name);
        return Task.FromResult(image);
    }

    private static async Task WriteStaticRootAsync(DeterministicTarWriter tar, byte[]? ca, CancellationToken ct)
    {
        const int Dir = 0x1ed; // 0755
        const int File = 0x1a4; // 0644
        var passwd = "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"u8.ToArray();
        var group = "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n"u8.ToArray();
        var nsswitch = "hosts: files dns\n"u8.ToArray();
        await tar.WriteEntryAsync(new TarEntry("etc", TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("etc/group", TarEntryType.File, File, 0, 0), group, ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("etc/nsswitch.conf", TarEntryType.File, File, 0, 0), nsswitch, ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("etc/passwd", TarEntryType.File, File, 0, 0), passwd, ct).ConfigureAwait(false);
        if (ca is not null)
        {
            await tar.WriteEntryAsync(new TarEntry("etc/ssl", TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
            await tar.WriteEntryAsync(new TarEntry("etc/ssl/certs", TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
            await tar.WriteEntryAsync(new TarEntry("etc/ssl/certs/ca-certificates.crt", TarEntryType.File, File, 0, 0), ca, ct).ConfigureAwait(false);
        }

        await tar.WriteEntryAsync(new TarEntry("home", TarEntryType.Directory, Dir, 0, 0), ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("home/nonroot", TarEntryType.Directory, 0x1c0 /* 0700 */, 0, 0) { Uid = 65532, Gid = 65532 }, ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("root", TarEntryType.Directory, 0x1c0, 0, 0), ct).ConfigureAwait(false);
        await tar.WriteEntryAsync(new TarEntry("tmp", TarEntryType.Directory, 0x3ff /* 1777 */, 0, 0), ct).ConfigureAwait(false);
    }
}
