using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using Ko.Engine.Layers;

namespace Ko.Engine.Tests;

/// <summary>Independent helpers: everything here uses the BCL only, never the code under test, to read results back.</summary>
internal static class TestUtil
{
    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static string Sha256Ref(byte[] bytes) => "sha256:" + Sha256Hex(bytes);

    public static byte[] Gunzip(byte[] gz)
    {
        using var input = new GZipStream(new MemoryStream(gz), CompressionMode.Decompress);
        using var output = new MemoryStream();
        input.CopyTo(output);
        return output.ToArray();
    }

    /// <summary>Reads every entry of a tar with the BCL's TarReader, copying data out.</summary>
    public static List<(System.Formats.Tar.TarEntry Entry, byte[] Data)> ReadTar(byte[] tar)
    {
        var result = new List<(System.Formats.Tar.TarEntry, byte[])>();
        using var reader = new TarReader(new MemoryStream(tar));
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            var data = Array.Empty<byte>();
            if (entry.DataStream is not null)
            {
                using var ms = new MemoryStream();
                entry.DataStream.CopyTo(ms);
                data = ms.ToArray();
            }

            result.Add((entry, data));
        }

        return result;
    }

    /// <summary>Runs a writer callback against a fresh DeterministicTarWriter and returns the finished archive.</summary>
    public static async Task<byte[]> WriteTarAsync(Func<DeterministicTarWriter, Task> write)
    {
        var ms = new MemoryStream();
        await using (var tar = new DeterministicTarWriter(ms, leaveOpen: true))
        {
            await write(tar);
            await tar.FinishAsync(CancellationToken.None);
        }

        return ms.ToArray();
    }

    /// <summary>An octal mode given as text, e.g. "1777", parsed independently of the code under test.</summary>
    /// <summary>A one-file layer ("data.txt": hello) written into a new cache at <paramref name="root"/>, stored under "key".</summary>
    public static async Task<(Ko.Engine.Layers.ContentStore Store, Ko.Engine.Layers.LayerCache Cache, Ko.Engine.Layers.FileLayer Layer)> CachedLayerAsync(string root)
    {
        var store = new Ko.Engine.Layers.ContentStore(root);
        var cache = new Ko.Engine.Layers.LayerCache(store);
        var layer = await Ko.Engine.Layers.LayerWriter.WriteAsync(
            store,
            async (tar, ct) => await tar.WriteEntryAsync(new Ko.Engine.Layers.TarEntry("data.txt", Ko.Engine.Layers.TarEntryType.File, 0x1a4, 0, 0), "hello"u8.ToArray(), ct),
            CancellationToken.None);
        await cache.PutAsync("key", layer, CancellationToken.None);
        return (store, cache, layer);
    }

    public static int Octal(string text) => Convert.ToInt32(text, 8);

    /// <summary>Runs a program (mkfifo, mknod, mount) to set up a test, bounded in time; a failure fails the test.</summary>
    public static string Run(string program, params string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = System.Diagnostics.Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(30_000))
        {
            process.Kill();
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 30 s");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}");
        }

        return stdout;
    }

    /// <summary>Unblocks a thread stuck opening a FIFO for reading (by opening it for writing), so a failed test cannot hang the run.</summary>
    public static void ReleaseFifoReaders(string fifo)
    {
        var writer = Task.Run(() =>
        {
            try
            {
                using var stream = new FileStream(fifo, FileMode.Open, FileAccess.Write);
            }
            catch (IOException)
            {
            }
        });
        writer.Wait(TimeSpan.FromSeconds(2));
    }
}
