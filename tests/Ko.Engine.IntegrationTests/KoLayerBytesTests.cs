using Ko.Engine.Layers;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// The same inputs give ko's layer bytes: a Go program using archive/tar writes the two layers with the entries ko's
/// pkg/build/gobuild.go writes (tarBinary: "ko-app" and "/ko-app/NAME", 0555, no time, capabilities as a PAX
/// xattr; tarKoData: "/var", "/var/run", "/var/run/ko", then filepath.Walk of kodata/, 0555, dated by
/// KO_DATA_DATE_EPOCH), and the engine's layers must have the same diff_ids (uncompressed sha256).
/// </summary>
public sealed class KoLayerBytesTests : IDisposable
{
    // Written for this test from ko's layer layout (not ko's code): prints the sha256 of each tar.
    private const string ReferenceWriter = """
        package main

        import (
        	"archive/tar"
        	"bytes"
        	"crypto/sha256"
        	"encoding/hex"
        	"fmt"
        	"io"
        	"os"
        	"path"
        	"path/filepath"
        	"strconv"
        	"time"
        )

        func must(err error) {
        	if err != nil {
        		panic(err)
        	}
        }

        func file(tw *tar.Writer, name, src string, t time.Time, pax map[string]string) {
        	data, err := os.ReadFile(src)
        	must(err)
        	must(tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0555, Size: int64(len(data)), ModTime: t, PAXRecords: pax}))
        	_, err = io.Copy(tw, bytes.NewReader(data))
        	must(err)
        }

        func dir(tw *tar.Writer, name string, t time.Time) {
        	must(tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeDir, Mode: 0555, ModTime: t}))
        }

        func sum(buf *bytes.Buffer) string {
        	h := sha256.Sum256(buf.Bytes())
        	return "sha256:" + hex.EncodeToString(h[:])
        }

        func main() {
        	binary, name, kodata, xattrHex := os.Args[1], os.Args[2], os.Args[3], os.Args[5]
        	epoch, err := strconv.ParseInt(os.Args[4], 10, 64)
        	must(err)
        	var kodataTime time.Time
        	if epoch != 0 {
        		kodataTime = time.Unix(epoch, 0)
        	}

        	var b bytes.Buffer
        	tw := tar.NewWriter(&b)
        	dir(tw, "ko-app", time.Time{})
        	pax := map[string]string{}
        	if xattrHex != "-" {
        		x, err := hex.DecodeString(xattrHex)
        		must(err)
        		pax["SCHILY.xattr.security.capability"] = string(x)
        	}
        	file(tw, "/ko-app/"+name, binary, time.Time{}, pax)
        	must(tw.Close())

        	var k bytes.Buffer
        	kw := tar.NewWriter(&k)
        	for _, d := range []string{"/var", "/var/run", "/var/run/ko"} {
        		dir(kw, d, kodataTime)
        	}
        	must(filepath.Walk(kodata, func(p string, info os.FileInfo, err error) error {
        		must(err)
        		if p == kodata {
        			return nil
        		}
        		name := path.Join("/var/run/ko", filepath.ToSlash(p[len(kodata):]))
        		if info.IsDir() {
        			dir(kw, name, kodataTime)
        			return nil
        		}
        		file(kw, name, p, kodataTime, nil)
        		return nil
        	}))
        	must(kw.Close())
        	fmt.Println(sum(&b))
        	fmt.Println(sum(&k))
        }
        """;

    private readonly TempDir _dir = new("ko-layer-bytes");

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(0L, null)]
    [InlineData(1_700_000_000L, "net_bind_service")]
    [InlineData(86_400L, "cap_net_raw+ep")]
    public async Task Engine_layers_have_the_diff_ids_of_the_layers_ko_writes(long kodataEpoch, string? capability)
    {
        var pkg = _dir.Combine("pkg");
        _dir.WriteFile("pkg/kodata/index.html", "<h1>hello</h1>\n");
        _dir.WriteFile("pkg/kodata/a/b.txt", "b");
        _dir.WriteFile("pkg/kodata/a-c.txt", "c"); // Walk: a, a/b.txt, a-c.txt (ordinal path order would put a-c.txt first)
        _dir.WriteFile("pkg/kodata/.hidden", "h");
        _dir.WriteFile("pkg/kodata/" + new string('d', 90) + "/" + new string('f', 60) + ".txt", "a name past 100 bytes");
        var binary = _dir.WriteFile("bin/app", "\u007fELF not really, but bytes are bytes" + new string('x', 1000));
        _dir.WriteFile("ref/main.go", ReferenceWriter);
        string[] caps = capability is null ? [] : [capability];
        var xattr = capability is null ? "-" : Convert.ToHexStringLower(Ko.Engine.Layers.FileCapabilities.Parse(caps, "test").XattrBytes()!);

        var env = new Dictionary<string, string?> { ["GO111MODULE"] = "off", ["GOFLAGS"] = string.Empty, ["GOCACHE"] = _dir.Combine("gocache"), ["HOME"] = _dir.Path, ["PATH"] = System.Environment.GetEnvironmentVariable("PATH") };
        var reference = await Tools.RunAsync("go", ["run", "main.go", binary, "app", Path.Combine(pkg, "kodata"), kodataEpoch.ToString(System.Globalization.CultureInfo.InvariantCulture), xattr], _dir.Combine("ref"), env);
        var lines = reference.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);

        var store = new ContentStore(_dir.Combine("store"));
        var cache = new LayerCache(store);
        var ours = await AppLayers.BinaryLayerAsync(store, cache, binary, "app", 1_600_000_000, CancellationToken.None, caps);
        var kodata = await AppLayers.KodataLayerAsync(store, cache, pkg, kodataEpoch, CancellationToken.None, AppLayers.KodataAllowedRoot(pkg, new Dictionary<string, string?>()));

        Assert.Equal(lines[0], ours.Layer.DiffId.ToString());
        Assert.Equal(lines[1], kodata.Layer.DiffId.ToString());
    }
}
