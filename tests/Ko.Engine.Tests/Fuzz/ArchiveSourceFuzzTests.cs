using CsCheck;
using Ko.Engine.Images;
using Ko.Engine.Layers;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Sinks;
using Ko.Engine.Registry;
using Ko.Engine.Sources;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>
/// Fuzz of the archive sources: a good archive (an OCI layout with a docker manifest.json) with bytes changed in its
/// tar headers and JSON documents, or cut short, either reads (and its layers stream) or fails with a source code
/// (KO3015–KO3017) — never another exception, a crash or a hang.
/// </summary>
[Trait("Category", "Fuzz")]
public sealed class ArchiveSourceFuzzTests : IDisposable
{
    private static readonly string[] Codes = [KoErrorCodes.SourceNotFound, KoErrorCodes.SourceCorrupt, KoErrorCodes.SourceUnreadable];

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private async Task<byte[]> SeedAsync()
    {
        var store = new ContentStore(_dir.Combine("cache"));
        var synthetic = await SyntheticBase.EmbeddedStaticAsync(store, new LayerCache(store), CancellationToken.None);
        var image = await synthetic.GetImageAsync(new Platform("linux", "amd64"), CancellationToken.None);
        var path = _dir.Combine("seed.tar");
        await DockerArchiveWriter.WriteAsync(path, [(image, ["ko.local/app:latest"])], CancellationToken.None);
        return await File.ReadAllBytesAsync(path);
    }

    /// <summary>Where changes matter: every header, and the data of every small (JSON) entry.</summary>
    private static async Task<List<(int Start, int Length)>> RegionsAsync(string path)
    {
        var index = await TarIndex.ReadAsync(path, CancellationToken.None);
        var regions = new List<(int, int)>();
        foreach (var e in index.Entries.Values)
        {
            regions.Add(((int)e.Offset - 512, 512));
            if (e.Size is > 0 and < 4096)
            {
                regions.Add(((int)e.Offset, (int)e.Size));
            }
        }

        return regions;
    }

    [Fact]
    public async Task A_changed_or_cut_archive_reads_or_fails_with_a_source_code()
    {
        var seed = await SeedAsync();
        var regions = await RegionsAsync(_dir.Combine("seed.tar"));
        var change = Gen.Select(Gen.Int[0, regions.Count - 1], Gen.Int[0, 4095], Gen.Byte, (r, at, value) => (Offset: regions[r].Start + (at % regions[r].Length), Value: value));
        var gen = Gen.Select(change.Array[1, 4], Gen.Int[0, 10], Gen.Int[0, seed.Length], (changes, cutChance, cut) => (Changes: changes, Cut: cutChance == 0 ? cut : seed.Length));
        var file = _dir.Combine("case.tar");

        await CheckEachAsync(
            gen,
            async c =>
            {
                var bytes = seed.ToArray();
                foreach (var (offset, value) in c.Changes)
                {
                    bytes[offset] = value;
                }

                await File.WriteAllBytesAsync(file, bytes.AsMemory(0, c.Cut));
                foreach (var transport in new[] { "oci-archive", "docker-archive" })
                {
                    await ReadsOrFailsWithASourceCodeAsync($"{transport}:{file}");
                }
            },
            iterations: 150,
            print: c => $"cut at {c.Cut}, changes {string.Join(", ", c.Changes.Select(x => $"{x.Offset}={x.Value}"))}");
    }

    private static async Task ReadsOrFailsWithASourceCodeAsync(string spec)
    {
        try
        {
            await using var source = await ImageSources.OpenAsync(spec, "/", () => new RegistryOptions(), null, null, CancellationToken.None);
            var artifact = await source.ReadAsync(CancellationToken.None);
            foreach (var layer in artifact.Images.SelectMany(i => i.Layers))
            {
                await using var stream = await layer.OpenCompressedAsync(CancellationToken.None);
                await stream.CopyToAsync(Stream.Null);
            }
        }
        catch (KoException ex)
        {
            Assert.True(Codes.Contains(ex.Code), $"{spec}: {ex.Code} {ex.Message}");
        }
    }
}
