using System.IO.Compression;
using Ko.Engine.Layers;

namespace Ko.Engine.Tests;

/// <summary>
/// The layers' gzip: independent 1 MiB blocks joined into one member, checked with the real gzip and .NET's
/// decompressor; the same bytes whatever the number of workers; never much larger than incompressible input.
/// </summary>
public sealed class ParallelGzipTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static async Task<byte[]> CompressAsync(byte[] input, int workers, int chunk = 100_003, bool flushBetween = false)
    {
        using var output = new MemoryStream();
        var gzip = new ParallelGzipStream(output, workers: workers, leaveOpen: true);
        await using (gzip)
        {
            for (var at = 0; at < input.Length; at += chunk)
            {
                await gzip.WriteAsync(input.AsMemory(at, Math.Min(chunk, input.Length - at)));
                if (flushBetween)
                {
                    await gzip.FlushAsync();
                }
            }

            await gzip.FinishAsync(CancellationToken.None);
        }

        return output.ToArray();
    }

    /// <summary>Real machine code and metadata (this runtime's own libraries), about 3.5 blocks, not a multiple of the block size.</summary>
    private static byte[] BinaryLikeInput()
    {
        var dir = Path.GetDirectoryName(typeof(object).Assembly.Location)!;
        var bytes = new List<byte>();
        foreach (var file in Directory.GetFiles(dir, "*.dll").Order(StringComparer.Ordinal))
        {
            bytes.AddRange(File.ReadAllBytes(file));
            if (bytes.Count > (3 * ParallelGzipStream.BlockSize) + 500_000)
            {
                break;
            }
        }

        return bytes.Take((3 * ParallelGzipStream.BlockSize) + 123_457).ToArray();
    }

    private static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    [Fact]
    public async Task The_bytes_are_the_same_for_1_2_and_8_workers()
    {
        var input = BinaryLikeInput();
        var one = await CompressAsync(input, 1);
        Assert.Equal(one, await CompressAsync(input, 2));
        Assert.Equal(one, await CompressAsync(input, 8, chunk: 4096));
        Assert.Equal(input, Gunzip(one));
    }

    [Fact]
    public async Task Flushes_do_not_change_the_bytes()
    {
        var input = BinaryLikeInput();
        Assert.Equal(await CompressAsync(input, 2), await CompressAsync(input, 2, chunk: 65_536, flushBetween: true));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(1 << 20)]
    [InlineData((2 << 20) + 1)]
    public async Task The_real_gzip_accepts_the_output_and_gives_back_the_input(int length)
    {
        var input = new byte[length];
        new Random(length).NextBytes(input.AsSpan(0, length / 2)); // half random, half zeros: both paths
        var path = _dir.Combine("out.gz");
        await File.WriteAllBytesAsync(path, await CompressAsync(input, 2));

        TestUtil.Run("gzip", "-t", path);
        var unpacked = _dir.Combine("out");
        TestUtil.Run("gzip", "-d", "-k", path);
        Assert.Equal(input, await File.ReadAllBytesAsync(unpacked));
    }

    [Fact]
    public async Task Random_data_is_never_larger_than_the_input_plus_a_tenth_of_a_percent()
    {
        var input = new byte[(5 * ParallelGzipStream.BlockSize) + 999];
        new Random(42).NextBytes(input);
        var gz = await CompressAsync(input, 2);

        Assert.True(gz.Length <= input.Length * 1.001, $"{gz.Length} bytes for {input.Length} random bytes");
        Assert.Equal(input, Gunzip(gz));
    }

    [Fact]
    public async Task Compressed_size_is_within_3_percent_of_the_real_gzip_1()
    {
        var input = BinaryLikeInput();
        var path = _dir.Combine("input");
        await File.WriteAllBytesAsync(path, input);
        TestUtil.Run("gzip", "-1", "-k", "-n", path);
        var reference = new FileInfo(path + ".gz").Length;

        var ours = (await CompressAsync(input, 2)).Length;

        Assert.True(ours <= reference * 1.03, $"ours {ours} bytes, gzip -1 {reference} bytes");
    }

    [Fact]
    public async Task A_stream_that_was_not_finished_writes_no_trailer_and_refuses_writes_after_finish()
    {
        using var output = new MemoryStream();
        var gzip = new ParallelGzipStream(output, workers: 2, leaveOpen: true);
        await gzip.WriteAsync(new byte[(2 * ParallelGzipStream.BlockSize) + 10]);
        await gzip.DisposeAsync();
        // Abandoned: whatever was written is not a whole gzip member, and the real gzip says so.
        var path = _dir.Combine("abandoned.gz");
        await File.WriteAllBytesAsync(path, output.ToArray());
        Assert.Throws<InvalidOperationException>(() => TestUtil.Run("gzip", "-t", path));

        using var output2 = new MemoryStream();
        var finished = new ParallelGzipStream(output2, leaveOpen: true);
        await finished.FinishAsync(CancellationToken.None);
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await finished.WriteAsync(new byte[1]));
        Assert.Empty(Gunzip(output2.ToArray()));
    }
}
