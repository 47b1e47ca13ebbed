using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// A FAKE registry, in memory, for the one thing no registry here offers: Debian's docker-registry (2.8) has no OCI 1.1
/// referrers API. It implements just what signing uses (manifests by tag and digest, blobs, monolithic uploads) and
/// <c>GET /v2/REPO/referrers/DIGEST</c> built from the stored manifests' <c>subject</c>, and records every request.
/// With <see cref="HostileReferrers"/> the referrers endpoint answers 200 with a body that is not an index.
/// </summary>
public sealed class FakeReferrersRegistry : LoopbackHttpFake
{
    private readonly ConcurrentDictionary<string, (string MediaType, byte[] Bytes)> _manifests = new();
    private readonly ConcurrentDictionary<string, byte[]> _blobs = new();
    private readonly ConcurrentQueue<(string Method, string Path, string? ContentType, byte[] Body)> _requests = new();

    public FakeReferrersRegistry()
    {
        Start();
    }

    /// <summary>When set, the referrers endpoint answers 200 with an index content type and a body that is not JSON.</summary>
    public bool HostileReferrers { get; set; }

    public IReadOnlyList<(string Method, string Path, string? ContentType, byte[] Body)> Requests => [.. _requests];

    /// <summary>Stores a blob; returns its digest.</summary>
    public string PutBlob(string repository, byte[] bytes)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        _blobs[$"{repository}@{digest}"] = bytes;
        return digest;
    }

    /// <summary>Stores a manifest by digest (and under <paramref name="tag"/>); returns its digest.</summary>
    public string PutManifest(string repository, string mediaType, byte[] bytes, string? tag = null)
    {
        var digest = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));
        _manifests[$"{repository}@{digest}"] = (mediaType, bytes);
        if (tag is not null)
        {
            _manifests[$"{repository}:{tag}"] = (mediaType, bytes);
        }

        return digest;
    }

    public bool HasManifest(string repository, string reference) => _manifests.ContainsKey(repository + (reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":") + reference);

    public byte[]? Blob(string repository, string digest) => _blobs.GetValueOrDefault($"{repository}@{digest}");

    protected override async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.Url!.AbsolutePath;
        using var body = new MemoryStream();
        await request.InputStream.CopyToAsync(body);
        _requests.Enqueue((request.HttpMethod, request.Url.PathAndQuery, request.ContentType, body.ToArray()));
        if (path == "/v2/")
        {
            response.StatusCode = 200;
            return;
        }

        if (Split(path, "/referrers/") is { } referrers && request.HttpMethod == "GET")
        {
            response.StatusCode = 200;
            response.ContentType = "application/vnd.oci.image.index.v1+json";
            await WriteAsync(response, HostileReferrers ? "{\"schemaVersion\":2,\"manifests\":[{\"digest\":"u8.ToArray() : ReferrersIndex(referrers.Repository, referrers.Reference));
            return;
        }

        if (Split(path, "/manifests/") is { } m)
        {
            var key = m.Repository + (m.Reference.StartsWith("sha256:", StringComparison.Ordinal) ? "@" : ":") + m.Reference;
            if (request.HttpMethod == "PUT")
            {
                var digest = PutManifest(m.Repository, request.ContentType ?? "application/vnd.oci.image.manifest.v1+json", body.ToArray(), m.Reference.StartsWith("sha256:", StringComparison.Ordinal) ? null : m.Reference);
                response.StatusCode = 201;
                response.Headers["Docker-Content-Digest"] = digest;
                return;
            }

            if (!_manifests.TryGetValue(key, out var stored))
            {
                response.StatusCode = 404;
                return;
            }

            response.StatusCode = 200;
            response.ContentType = stored.MediaType;
            response.Headers["Docker-Content-Digest"] = "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stored.Bytes));
            if (request.HttpMethod == "GET")
            {
                await WriteAsync(response, stored.Bytes);
            }
            else
            {
                response.ContentLength64 = stored.Bytes.Length;
            }

            return;
        }

        if (path.EndsWith("/blobs/uploads/", StringComparison.Ordinal) && request.HttpMethod == "POST")
        {
            response.StatusCode = 202;
            response.Headers["Location"] = $"{path}{Guid.NewGuid():N}";
            return;
        }

        if (path.Contains("/blobs/uploads/", StringComparison.Ordinal) && request.HttpMethod == "PUT")
        {
            var repository = path[4..path.IndexOf("/blobs/uploads/", StringComparison.Ordinal)];
            var digest = PutBlob(repository, body.ToArray());
            response.StatusCode = digest == request.QueryString["digest"] ? 201 : 400;
            return;
        }

        if (Split(path, "/blobs/") is { } b && _blobs.TryGetValue($"{b.Repository}@{b.Reference}", out var blob))
        {
            response.StatusCode = 200;
            if (request.HttpMethod == "GET")
            {
                await WriteAsync(response, blob);
            }
            else
            {
                response.ContentLength64 = blob.Length;
            }

            return;
        }

        response.StatusCode = 404;
    }

    private byte[] ReferrersIndex(string repository, string subject)
    {
        var entries = new List<object>();
        foreach (var (key, (mediaType, bytes)) in _manifests.Where(kv => kv.Key.StartsWith(repository + "@", StringComparison.Ordinal)))
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.TryGetProperty("subject", out var s) && s.GetProperty("digest").GetString() == subject)
            {
                entries.Add(new Dictionary<string, object?>
                {
                    ["mediaType"] = mediaType,
                    ["digest"] = key[(repository.Length + 1)..],
                    ["size"] = bytes.Length,
                    ["artifactType"] = doc.RootElement.TryGetProperty("artifactType", out var t) ? t.GetString() : null,
                });
            }
        }

        return JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object> { ["schemaVersion"] = 2, ["mediaType"] = "application/vnd.oci.image.index.v1+json", ["manifests"] = entries });
    }

    private static (string Repository, string Reference)? Split(string path, string marker)
    {
        var at = path.IndexOf(marker, StringComparison.Ordinal);
        return path.StartsWith("/v2/", StringComparison.Ordinal) && at > 4 ? (path[4..at], path[(at + marker.Length)..]) : null;
    }

    private static async Task WriteAsync(HttpListenerResponse response, byte[] bytes)
    {
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }
}
