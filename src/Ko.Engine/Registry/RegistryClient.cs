using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Registry;

/// <summary>
/// The OCI distribution API of one registry host: blob existence and upload, manifest existence and put. One
/// <see cref="HttpClient"/> over a <see cref="SocketsHttpHandler"/> per host. Plain HTTP only for loopback hosts
/// (<c>localhost</c>, <c>127.x</c>, <c>[::1]</c>); every other host is spoken to over HTTPS. No authentication yet.
/// Failures become <see cref="KoException"/>s with <see cref="KoErrorCodes.PushFailed"/> that name the host, the
/// operation, the status and the registry's error text; never any credentials.
/// </summary>
internal sealed class RegistryClient : IDisposable
{
    private static readonly string[] ManifestAccept = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList];
    private const int MaxErrorBody = 4096;

    private readonly HttpClient _http;
    private readonly Uri _base;

    public RegistryClient(string host, RegistryOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(options);
        Host = host;
        _base = RegistryTransport.BaseAddress(host, options);

        // Layers can be large and slow to upload: no overall timeout; callers cancel through their token.
        _http = new HttpClient(RegistryTransport.CreateHandler(host, options), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The registry host (and port) as written in the image name.</summary>
    public string Host { get; }

    /// <summary>The base address, <c>http://</c> for loopback hosts and <c>https://</c> otherwise.</summary>
    public Uri BaseAddress => _base;

    /// <summary>True when <paramref name="host"/> (with an optional port) names the loopback interface.</summary>
    public static bool IsLoopback(string host)
    {
        string name;
        if (host.StartsWith('['))
        {
            var end = host.IndexOf(']', StringComparison.Ordinal);
            if (end < 0)
            {
                return false;
            }

            name = host[1..end];
        }
        else
        {
            var colon = host.IndexOf(':', StringComparison.Ordinal);
            name = colon < 0 ? host : host[..colon];
        }

        if (string.Equals(name, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        return IPAddress.TryParse(name, out var address) && IPAddress.IsLoopback(address);
    }

    /// <summary>HEAD <c>/v2/REPO/blobs/DIGEST</c>: true on 200, false on 404.</summary>
    public async Task<bool> BlobExistsAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var operation = $"checking blob {digest} in {repository}";
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(_base, $"v2/{repository}/blobs/{digest}"));
        using var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }

        await EnsureAsync(response, HttpStatusCode.OK, operation, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Uploads a blob in one streamed PUT: POST <c>/v2/REPO/blobs/uploads/</c> (202 with a Location), then PUT to
    /// that location with <c>digest=</c> appended (201). The content is streamed from <paramref name="open"/>,
    /// never held in memory whole.
    /// </summary>
    public async Task UploadBlobAsync(string repository, Digest digest, long size, Func<CancellationToken, ValueTask<Stream>> open, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(open);
        var operation = $"starting the upload of blob {digest} to {repository}";
        Uri location;
        using (var start = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"v2/{repository}/blobs/uploads/")))
        {
            start.Content = new ByteArrayContent([]);
            using var response = await SendAsync(start, operation, cancellationToken).ConfigureAwait(false);
            await EnsureAsync(response, HttpStatusCode.Accepted, operation, cancellationToken).ConfigureAwait(false);
            var header = response.Headers.Location
                ?? throw new KoException(KoErrorCodes.PushFailed, $"registry {Host}: {operation} returned 202 without a Location header; the registry does not follow the OCI distribution API.");
            location = header.IsAbsoluteUri ? header : new Uri(start.RequestUri!, header);
        }

        var put = AppendDigest(location, digest);
        operation = $"uploading blob {digest} ({size} bytes) to {repository}";
        using var request = new HttpRequestMessage(HttpMethod.Put, put);
        request.Content = new ReopenableContent(open, size);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var done = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(done, HttpStatusCode.Created, operation, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// HEAD <c>/v2/REPO/manifests/REF</c> accepting OCI and Docker manifests and indexes: the
    /// <c>Docker-Content-Digest</c> on 200, null on 404 (or when the registry sends no usable digest).
    /// </summary>
    public async Task<Digest?> ManifestDigestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        var operation = $"checking manifest {repository}:{reference}";
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(_base, $"v2/{repository}/manifests/{reference}"));
        foreach (var type in ManifestAccept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        using var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, HttpStatusCode.OK, operation, cancellationToken).ConfigureAwait(false);
        return response.Headers.TryGetValues("Docker-Content-Digest", out var values) && Digest.TryParse(values.FirstOrDefault(), out var digest)
            ? digest
            : null;
    }

    /// <summary>PUT <c>/v2/REPO/manifests/REF</c> with the manifest's own media type; expects 201.</summary>
    public async Task PutManifestAsync(string repository, string reference, string mediaType, ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        var operation = $"putting manifest {repository}:{reference}";
        using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(_base, $"v2/{repository}/manifests/{reference}"));
        request.Content = new ReadOnlyMemoryContent(bytes);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        using var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, HttpStatusCode.Created, operation, cancellationToken).ConfigureAwait(false);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The upload location with <c>digest=</c> added to whatever query it already has.</summary>
    internal static Uri AppendDigest(Uri location, Digest digest)
    {
        var builder = new UriBuilder(location);
        var query = builder.Query.TrimStart('?');
        var parameter = "digest=" + Uri.EscapeDataString(digest.ToString());
        builder.Query = query.Length == 0 ? parameter : query + "&" + parameter;
        return builder.Uri;
    }

    /// <summary>The registry's error text: the OCI error JSON's <c>errors[].message</c> when present, else the body.</summary>
    internal static string DescribeErrorBody(string body)
    {
        body = body.Trim();
        if (body.Length == 0)
        {
            return string.Empty;
        }

        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("errors", out var errors)
                && errors.ValueKind == JsonValueKind.Array)
            {
                var parts = new List<string>();
                foreach (var error in errors.EnumerateArray())
                {
                    if (error.ValueKind != JsonValueKind.Object)
                    {
                        continue;
                    }

                    var code = error.TryGetProperty("code", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                    var message = error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    if (code is not null || message is not null)
                    {
                        parts.Add(code is null ? message! : message is null ? code : $"{code}: {message}");
                    }
                }

                if (parts.Count > 0)
                {
                    return string.Join("; ", parts);
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON: the text itself is the best description there is.
        }

        return body.Length > 500 ? body[..500] + "…" : body;
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new KoException(KoErrorCodes.PushFailed, $"registry {Host} ({_base.Scheme}): {operation} failed: {ex.Message}. Check that the registry is running and reachable.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.PushFailed, $"registry {Host} ({_base.Scheme}): {operation} timed out. Check that the registry is running and reachable.", ex);
        }
    }

    private async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected, string operation, CancellationToken cancellationToken)
    {
        if (response.StatusCode == expected)
        {
            return;
        }

        var body = string.Empty;
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxErrorBody];
                var total = 0;
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), cancellationToken).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }

                body = DescribeErrorBody(System.Text.Encoding.UTF8.GetString(buffer, 0, total));
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            // The status alone still says what went wrong.
        }

        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        throw new KoException(
            KoErrorCodes.PushFailed,
            $"registry {Host}: {operation} returned {status} (expected {(int)expected}){(body.Length > 0 ? ": " + body : string.Empty)}.");
    }
}
