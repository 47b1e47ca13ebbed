using System.Text;
using CsCheck;
using Ko.Engine.Layers;
using Ko.Engine.Registry.Credentials;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;
using KoTarEntry = Ko.Engine.Layers.TarEntry;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>Fuzz/property tests of docker's config.json reader and of tar entry names.</summary>
[Trait("Category", "Fuzz")]
public sealed class CredentialsAndTarFuzzTests
{
    private static readonly string Auth = Convert.ToBase64String(Encoding.UTF8.GetBytes("user:pass:word"));

    private static readonly string[] ConfigSeeds =
    [
        $$$"""
        {"auths":{"https://index.docker.io/v1/":{"auth":"{{{Auth}}}"},"registry.example:5000":{"username":"u","password":"p"},
                  "ghcr.io":{"identitytoken":"tok"},"bad":{"auth":"!!!"}},
         "credHelpers":{"gcr.io":"gcloud","x.example":""},"credsStore":"desktop"}
        """,
        "{\"auths\":{\"a\":{\"auth\":\"" + Convert.ToBase64String(Encoding.UTF8.GetBytes("nocolon")) + "\"}}, // comment\n}",
        "{\"auths\":{\"a\":{},\"a\":{\"auth\":\"" + Auth + "\"}},\"credHelpers\":{\"h\":\"x\",\"h\":\"y\"}}",
    ];

    [Fact]
    public Task Docker_config_parse_only_throws_KoException() =>
        CheckAsync(HostileJson(ConfigSeeds), text => OnlyKoException(() =>
        {
            var config = DockerConfig.Parse(text, "/fuzz/config.json");
            foreach (var host in new[] { "index.docker.io", "docker.io", "registry.example:5000", "ghcr.io", "gcr.io", text })
            {
                config.AuthFor(host);
                config.HelperFor(host);
            }
        }), 1000);

    [Fact]
    public Task Docker_config_never_echoes_a_secret_in_its_error() =>
        CheckAsync(
            Gen.Select(Mutated(ConfigSeeds), Gen.Char["ABCdef0123!$%"].Array[8, 16].Select(a => "Pw" + new string(a)), (text, secret) => (Text: text.Replace("pass:word", secret, StringComparison.Ordinal).Replace("\"p\"", "\"" + secret + "\"", StringComparison.Ordinal), Secret: secret)),
            c =>
            {
                try
                {
                    DockerConfig.Parse(c.Text, "/fuzz/config.json");
                }
                catch (KoException ex)
                {
                    Assert.DoesNotContain(c.Secret, ex.ToString(), StringComparison.Ordinal);
                }
            },
            1000,
            c => Show(c.Text));

    private static readonly Gen<string> NamePart = Gen.Frequency(
        (3, Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789._-"].Array[1, 40].Select(a => new string(a))),
        (1, Gen.Char["éü日本語ßΩ😀 #%\"'\\"].Array[1, 20].Select(a => new string(a))),
        (1, Gen.Char['\u0001', '\uffff'].Where(c => !char.IsSurrogate(c)).Array[1, 30].Select(a => new string(a))),
        (1, Gen.Const(new string('n', 150))));

    // Names (long, non-ASCII, needing PAX) written by the tar writer come back from the BCL's reader exactly.
    [Fact]
    public Task Tar_names_round_trip_through_the_BCL_reader() =>
        CheckEachAsync(
            Gen.Select(NamePart.Array[1, 8].Select(p => string.Join('/', p.Where(x => x is not ("." or "..")))).Where(n => n.Length > 0), Gen.Enum<TarEntryType>(), (name, type) => (Name: name, Type: type)),
            async c =>
            {
                var entry = new KoTarEntry(c.Name, c.Type, 0x1ed, 0, 0) { LinkName = c.Type == TarEntryType.Symlink ? c.Name + "-target" : null };
                byte[] tar;
                try
                {
                    tar = await TestUtil.WriteTarAsync(async w => await w.WriteEntryAsync(entry, CancellationToken.None));
                }
                catch (KoException)
                {
                    return; // a name the writer refuses, with a KoException naming it
                }

                var (name, link) = Read(tar);
                var expected = c.Type == TarEntryType.Directory && !c.Name.EndsWith('/') ? c.Name + "/" : c.Name;
                Assert.Equal(expected, name);
                if (c.Type == TarEntryType.Symlink)
                {
                    Assert.Equal(c.Name + "-target", link);
                }
            },
            1500,
            c => c.Type + " " + Show(c.Name));

    // Any string as a name: written exactly (read back equal), or refused with a KoException; never garbled.
    [Fact]
    public Task Tar_writer_any_name_is_exact_or_refused() =>
        CheckEachAsync(RawString(300), async name =>
        {
            byte[] tar;
            try
            {
                tar = await TestUtil.WriteTarAsync(async w => await w.WriteEntryAsync(new KoTarEntry(name, TarEntryType.File, 0x1a4, 0, 0), CancellationToken.None));
            }
            catch (KoException)
            {
                return;
            }

            Assert.Equal(name, Read(tar).Name);
        }, 1500);

    // The BCL's reader refuses a PAX value with a line break (POSIX and Go allow it: records are length-prefixed);
    // for such entries the records themselves are read.
    private static (string Name, string? Link) Read(byte[] tar)
    {
        var records = new Dictionary<string, string>(StringComparer.Ordinal);
        var main = 0;
        if (tar[156] == (byte)'x')
        {
            // POSIX PAX records: "<length> <key>=<value>\n", the length counting the whole record.
            var size = Convert.ToInt32(Encoding.ASCII.GetString(tar, 124, 11), 8);
            main = 512 + ((size + 511) / 512 * 512);
            for (var pos = 512; pos < 512 + size;)
            {
                var space = Array.IndexOf(tar, (byte)' ', pos);
                var length = int.Parse(Encoding.ASCII.GetString(tar, pos, space - pos), System.Globalization.CultureInfo.InvariantCulture);
                var record = Encoding.UTF8.GetString(tar, space + 1, length - (space - pos) - 2);
                var eq = record.IndexOf('=', StringComparison.Ordinal);
                records[record[..eq]] = record[(eq + 1)..];
                pos += length;
            }
        }

        if (records.Values.Any(v => v.AsSpan().IndexOfAny('\n', '\r') >= 0))
        {
            var name = records.GetValueOrDefault("path") ?? Encoding.ASCII.GetString(tar, main, 100).TrimEnd('\0');
            return (name, records.GetValueOrDefault("linkpath") ?? Encoding.ASCII.GetString(tar, main + 157, 100).TrimEnd('\0'));
        }

        var entry = Assert.Single(TestUtil.ReadTar(tar)).Entry;
        return (entry.Name, entry.LinkName);
    }
}
