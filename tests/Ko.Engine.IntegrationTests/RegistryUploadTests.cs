using System.Security.Cryptography;
using Ko.Engine.Oci;
using Ko.Engine.Registry;

namespace Ko.Engine.IntegrationTests;

/// <summary>The upload modes besides the single PUT, against the real docker-registry.</summary>
public sealed class RegistryUploadTests(RegistryFixture registry) : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly TempDir _dir = new("ko-upload");

    public void Dispose() => _dir.Dispose();

    private (string Path, Digest Digest, long Size) RandomBlob(int size)
    {
        var path = _dir.Combine($"blob-{size}");
        var bytes = RandomNumberGenerator.GetBytes(size);
        File.WriteAllBytes(path, bytes);
        return (path, Digest.Sha256(bytes), size);
    }

    private static Func<CancellationToken, ValueTask<Stream>> Opener(string path) =>
        _ => ValueTask.FromResult<Stream>(File.OpenRead(path));

    private static async Task AssertStoredAsync(RegistryClient client, string repository, Digest digest, long size)
    {
        Assert.True(await client.BlobExistsAsync(repository, digest, CancellationToken.None));
        await using var stream = await client.GetBlobAsync(repository, digest, size, CancellationToken.None);
        Assert.Equal(digest.Hex, Convert.ToHexStringLower(await SHA256.HashDataAsync(stream)));
    }

    [Fact]
    public async Task A_blob_larger_than_one_chunk_goes_up_in_chunks_with_content_ranges()
    {
        var (path, digest, size) = RandomBlob((int)RegistryClient.ChunkSize(null) * 2 + 12345);
        using var client = new RegistryClient(registry.Host, new RegistryOptions());
        await client.UploadChunkedAsync("chunked/blob", digest, size, Opener(path), null, CancellationToken.None);
        await AssertStoredAsync(client, "chunked/blob", digest, size);
    }

    [Fact]
    public async Task A_blob_of_unknown_length_goes_up_in_one_streamed_patch()
    {
        var (path, digest, size) = RandomBlob(300_000);
        using var client = new RegistryClient(registry.Host, new RegistryOptions());
        await client.UploadBlobAsync("streamed/blob", digest, -1, Opener(path), CancellationToken.None);
        await AssertStoredAsync(client, "streamed/blob", digest, size);
    }

    [Fact]
    public async Task A_registry_refusing_a_single_put_as_too_large_gets_the_blob_in_chunks()
    {
        var (path, digest, size) = RandomBlob(200_000);
        await using var proxy = new FaultProxy(registry.Port, r =>
            r.Method == "PUT" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal) && r.ContentLength > 0 && !r.Headers.ContainsKey("Content-Range")
                ? FaultAction.Respond(413)
                : FaultAction.Forward);
        using var client = new RegistryClient(proxy.Host, new RegistryOptions());
        await client.UploadBlobAsync("fallback/blob", digest, size, Opener(path), CancellationToken.None);
        Assert.Contains(proxy.Records, r => r.Method == "PATCH" && r.Status == 202);
        await AssertStoredAsync(client, "fallback/blob", digest, size);
    }

    [Theory]
    [InlineData(null, 8L << 20)]
    [InlineData(1024L, 8L << 20)]
    [InlineData(16L << 20, 16L << 20)]
    public void Chunks_honour_the_registrys_minimum(long? minimum, long expected) =>
        Assert.Equal(expected, RegistryClient.ChunkSize(minimum));
}
