using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ko.Engine.Oci;

namespace Ko.Engine.Registry;

/// <summary>
/// The OCI distribution API of one registry host: blob existence, streamed download, upload and cross-repository
/// mount; manifest existence, get and put. One <see cref="HttpClient"/> over a <see cref="SocketsHttpHandler"/> per
/// host. Plain HTTP only for loopback hosts (<c>localhost</c>, <c>127.x</c>, <c>[::1]</c>); every other host is
/// spoken to over HTTPS. Failures become <see cref="KoException"/>s with <see cref="KoErrorCodes.PushFailed"/>
/// (<see cref="KoErrorCodes.BaseImageUnreadable"/> for reads of manifests and blobs) that name the host, the
/// operation, the status and the registry's error text; never any credentials.
/// </summary>
internal sealed partial class RegistryClient : IDisposable
{
    private static readonly string[] ManifestAccept = [MediaTypes.OciManifest, MediaTypes.OciIndex, MediaTypes.DockerManifest, MediaTypes.DockerManifestList];
    private const int MaxUploadSessions = 3;
    private const long DefaultChunkSize = 8 << 20;
    private const int MaxManifestBytes = 4 << 20;

    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly IProgress<KoProgress>? _progress;
    private readonly RegistryOptions _options;

    public RegistryClient(string host, RegistryOptions options)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        ArgumentNullException.ThrowIfNull(options);
        Host = host;
        _base = RegistryTransport.BaseAddress(host, options);
        _progress = options.Progress;
        _options = options;

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
        for (var session = 1; ; session++)
        {
            var (location, minChunk) = await StartUploadAsync(repository, digest, cancellationToken).ConfigureAwait(false);
            var operation = $"uploading blob {digest} ({size} bytes) to {repository}";
            if (size < 0)
            {
                // Unknown length: one streamed PATCH, then the closing PUT.
                location = await PatchAsync(location, open, -1, null, operation, cancellationToken).ConfigureAwait(false);
                await FinishUploadAsync(location, digest, operation, cancellationToken).ConfigureAwait(false);
                return;
            }

            using var request = new HttpRequestMessage(HttpMethod.Put, AppendDigest(location, digest));
            request.Content = new ReopenableContent(open, size, _progress, digest.ToString());
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var done = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
            if (done.StatusCode == HttpStatusCode.Created)
            {
                return;
            }

            if (done.StatusCode == HttpStatusCode.RequestEntityTooLarge)
            {
                // The registry will not take the blob in one request: send it in chunks in a new session.
                await UploadChunkedAsync(repository, digest, size, open, minChunk, cancellationToken).ConfigureAwait(false);
                return;
            }

            // A connection lost mid-body leaves the session holding part of the blob, so the retried PUT is refused
            // (404/400 BLOB_UPLOAD_INVALID or UNKNOWN). Such a session is dead: start a fresh one.
            if (session < MaxUploadSessions && done.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                continue;
            }

            await EnsureAsync(done, HttpStatusCode.Created, operation, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The chunk size for a chunked upload: the default, raised to the registry's <c>OCI-Chunk-Min-Length</c>.</summary>
    internal static long ChunkSize(long? registryMinimum) => Math.Max(DefaultChunkSize, registryMinimum ?? 0);

    /// <summary>POST, then PATCH chunks with <c>Content-Range</c> (each re-read from the source when resent), then the closing PUT.</summary>
    internal async Task UploadChunkedAsync(string repository, Digest digest, long size, Func<CancellationToken, ValueTask<Stream>> open, long? minChunk, CancellationToken cancellationToken)
    {
        var (location, advertised) = await StartUploadAsync(repository, digest, cancellationToken).ConfigureAwait(false);
        var chunk = ChunkSize(advertised ?? minChunk);
        var operation = $"uploading blob {digest} ({size} bytes) in chunks of {chunk} to {repository}";
        for (long offset = 0; offset < size; offset += chunk)
        {
            var start = offset;
            var length = Math.Min(chunk, size - offset);
            location = await PatchAsync(location, ct => SliceStream.OpenAsync(open, start, length, ct), length, (start, start + length - 1), operation, cancellationToken).ConfigureAwait(false);
        }

        await FinishUploadAsync(location, digest, operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task<Uri> PatchAsync(Uri location, Func<CancellationToken, ValueTask<Stream>> open, long length, (long First, long Last)? range, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, location);
        if (length >= 0)
        {
            request.Content = new ReopenableContent(open, length, _progress, operation);
        }
        else
        {
            var stream = await open(cancellationToken).ConfigureAwait(false);
            request.Content = new StreamContent(stream, 1 << 16);
        }

        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (range is { } r)
        {
            request.Content.Headers.TryAddWithoutValidation("Content-Range", $"{r.First}-{r.Last}");
        }

        using var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, HttpStatusCode.Accepted, operation, cancellationToken).ConfigureAwait(false);
        return UploadLocation(response, operation) ?? location;
    }

    private async Task FinishUploadAsync(Uri location, Digest digest, string operation, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, AppendDigest(location, digest)) { Content = new ByteArrayContent([]) };
        using var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, HttpStatusCode.Created, operation, cancellationToken).ConfigureAwait(false);
    }

    private async Task<(Uri Location, long? MinChunk)> StartUploadAsync(string repository, Digest digest, CancellationToken cancellationToken)
    {
        var operation = $"starting the upload of blob {digest} to {repository}";
        using var start = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"v2/{repository}/blobs/uploads/"));
        start.Content = new ByteArrayContent([]);
        using var response = await SendAsync(start, operation, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, HttpStatusCode.Accepted, operation, cancellationToken).ConfigureAwait(false);
        var location = UploadLocation(response, operation)
            ?? throw new KoException(KoErrorCodes.PushFailed, $"registry {Host}: {operation} returned 202 without a Location header; the registry does not follow the OCI distribution API.");
        long? minChunk = response.Headers.TryGetValues("OCI-Chunk-Min-Length", out var values)
            && long.TryParse(values.FirstOrDefault(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var min) && min > 0
            ? min
            : null;
        return (location, minChunk);
    }

    /// <summary>
    /// The upload session URL a response names (resolved against the URL that answered), or null when it names
    /// none. Only http(s), and never HTTPS down to plain HTTP, else <see cref="KoErrorCodes.RedirectRefused"/>. It
    /// may be on another host (storage behind the registry): that host gets the blob but never the credentials.
    /// </summary>
    private Uri? UploadLocation(HttpResponseMessage response, string operation)
    {
        var (target, problem) = RedirectHandler.Location(response.RequestMessage?.RequestUri ?? _base, response);
        var what = $"registry {Host}: {operation}";
        return problem switch
        {
            LocationProblem.NotAUrl => throw new KoException(KoErrorCodes.RedirectRefused, $"{what}: the upload Location header is not a valid URL; the registry is broken."),
            LocationProblem.Scheme => throw new KoException(KoErrorCodes.RedirectRefused, $"{what}: the upload Location is a '{target!.Scheme}' URL; ko uploads only over http and https, so the registry is broken or hostile."),
            LocationProblem.Downgrade => throw new KoException(KoErrorCodes.RedirectRefused, $"{what}: the upload Location is plain HTTP ({target!.Authority}) while the registry speaks HTTPS; ko does not send a blob there."),
            _ => target,
        };
    }

    /// <summary>
    /// HEAD <c>/v2/REPO/manifests/REF</c> accepting OCI and Docker manifests and indexes: the
    /// <c>Docker-Content-Digest</c> on 200, null on 404 (or when the registry sends no usable digest).
    /// </summary>
    public Task<Digest?> ManifestDigestAsync(string repository, string reference, CancellationToken cancellationToken) =>
        ManifestDigestAsync(repository, reference, KoErrorCodes.PushFailed, cancellationToken);

    /// <summary>
    /// As <see cref="ManifestDigestAsync(string, string, CancellationToken)"/>, failing with <paramref name="errorCode"/>
    /// (<see cref="KoErrorCodes.BaseImageUnreadable"/> when a base image is being read).
    /// </summary>
    public async Task<Digest?> ManifestDigestAsync(string repository, string reference, string errorCode, CancellationToken cancellationToken)
    {
        var operation = $"checking manifest {repository}:{reference}";
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(_base, $"v2/{repository}/manifests/{reference}"));
        foreach (var type in ManifestAccept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        using var response = await SendAsync(request, operation, errorCode, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        await EnsureAsync(response, HttpStatusCode.OK, operation, errorCode, cancellationToken).ConfigureAwait(false);
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

    /// <summary>
    /// GET <c>/v2/REPO/manifests/REF</c> accepting OCI and Docker manifests and indexes: the media type, the raw bytes
    /// and their SHA-256 digest. When <paramref name="reference"/> is a digest the bytes must hash to it. Failures
    /// (a missing manifest included) are <see cref="KoErrorCodes.BaseImageUnreadable"/>.
    /// </summary>
    public async Task<(string MediaType, byte[] Bytes, Digest Digest)> GetManifestAsync(string repository, string reference, CancellationToken cancellationToken)
    {
        const string code = KoErrorCodes.BaseImageUnreadable;
        var operation = $"reading manifest {repository}{(reference.Contains(':', StringComparison.Ordinal) ? "@" : ":")}{reference}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"v2/{repository}/manifests/{reference}"));
        foreach (var type in ManifestAccept)
        {
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(type));
        }

        using var response = await SendAsync(request, operation, code, cancellationToken).ConfigureAwait(false);
        await EnsureAsync(response, HttpStatusCode.OK, operation, code, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentLength is > MaxManifestBytes)
        {
            throw new KoException(code, $"registry {Host}: {operation}: the manifest is {response.Content.Headers.ContentLength} bytes, more than the {MaxManifestBytes} a manifest may have.");
        }

        var bytes = await ReadBodyAsync(response, MaxManifestBytes, "a manifest", operation, code, cancellationToken).ConfigureAwait(false);

        var digest = Digest.Sha256(bytes);
        if (Digest.TryParse(reference, out var wanted) && wanted != digest)
        {
            throw new KoException(code, $"registry {Host}: {operation}: the bytes served hash to {digest}, not {wanted}; the registry returned the wrong content.");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (!MediaTypes.IsManifest(mediaType) && !MediaTypes.IsIndex(mediaType))
        {
            mediaType = MediaTypeOf(bytes, $"registry {Host}: {operation}");
        }

        return (mediaType!, bytes, digest);
    }

    /// <summary>The media type a manifest or index declares, or what its shape says when it declares none.</summary>
    internal static string MediaTypeOf(ReadOnlySpan<byte> bytes, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(bytes.ToArray());
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new KoException(KoErrorCodes.BaseImageUnreadable, $"{where}: the manifest is not a JSON object.");
            }

            if (doc.RootElement.TryGetProperty("mediaType", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() is { Length: > 0 } declared)
            {
                return declared;
            }

            return doc.RootElement.TryGetProperty("manifests", out _) ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"{where}: the manifest is not valid JSON (at {JsonPosition(ex)}); the registry served something else.", ex);
        }
    }

    /// <summary>
    /// GET <c>/v2/REPO/blobs/DIGEST</c>, streamed: the returned stream hashes what is read and, at its end, throws a
    /// <see cref="KoException"/> (<see cref="KoErrorCodes.BaseImageUnreadable"/>) when the bytes do not hash to
    /// <paramref name="digest"/> or their count is not <paramref name="size"/> (when given). The caller disposes it.
    /// </summary>
    public async Task<Stream> GetBlobAsync(string repository, Digest digest, long? size, CancellationToken cancellationToken)
    {
        const string code = KoErrorCodes.BaseImageUnreadable;
        var operation = $"reading blob {digest} from {repository}";
        if (digest.Algorithm != "sha256")
        {
            throw new KoException(code, $"registry {Host}: {operation}: only sha256 digests can be verified.");
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"v2/{repository}/blobs/{digest}"));
        var response = await SendAsync(request, operation, code, cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureAsync(response, HttpStatusCode.OK, operation, code, cancellationToken).ConfigureAwait(false);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return new VerifyingStream(body, response, digest, size, $"registry {Host}: {operation}");
        }
        catch
        {
            response.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A small blob (an image config) read whole into memory: streamed and verified as by
    /// <see cref="GetBlobAsync"/>, at most <paramref name="limit"/> bytes, and all of it within the response timeout
    /// (<see cref="KoErrorCodes.RegistryTimeout"/>), so a trickling registry cannot hold the run.
    /// </summary>
    public async Task<byte[]> ReadSmallBlobAsync(string repository, Digest digest, long size, int limit, CancellationToken cancellationToken)
    {
        var operation = $"reading blob {digest} from {repository}";
        if (size < 0 || size > limit)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"registry {Host}: {operation}: the descriptor claims {size} bytes, not between 0 and the {limit} such a blob may have.");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ResponseTimeout);
        try
        {
            var stream = await GetBlobAsync(repository, digest, size, deadline.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream((int)size);
                await stream.CopyToAsync(buffer, deadline.Token).ConfigureAwait(false);
                return buffer.ToArray();
            }
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new KoException(
                KoErrorCodes.RegistryTimeout,
                $"registry {Host}: {operation}: the {size} bytes did not all arrive within {TimeoutHandler.Ms(_options.ResponseTimeout)} ms. Check that it is up and reachable, or raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow.",
                ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new KoException(KoErrorCodes.BaseImageUnreadable, $"registry {Host}: {operation} failed: {NetworkErrors.Describe(ex)}.", ex);
        }
    }

    /// <summary>
    /// Cross-repository mount: POST <c>/v2/REPO/blobs/uploads/?mount=DIGEST&amp;from=FROM</c>. True on 201 (the blob is
    /// now in <paramref name="repository"/>); false on 202, when the registry opened an upload session instead (that
    /// session is cancelled with a DELETE, best effort) and the caller must upload.
    /// </summary>
    public async Task<bool> MountBlobAsync(string repository, Digest digest, string fromRepository, CancellationToken cancellationToken)
    {
        var operation = $"mounting blob {digest} from {fromRepository} into {repository}";
        var query = $"mount={Uri.EscapeDataString(digest.ToString())}&from={Uri.EscapeDataString(fromRepository)}";
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(_base, $"v2/{repository}/blobs/uploads/?{query}"));
        request.Content = new ByteArrayContent([]);
        Uri? session = null;
        using (var response = await SendAsync(request, operation, cancellationToken).ConfigureAwait(false))
        {
            if (response.StatusCode == HttpStatusCode.Created)
            {
                return true;
            }

            await EnsureAsync(response, HttpStatusCode.Accepted, operation, cancellationToken).ConfigureAwait(false);
            try
            {
                session = UploadLocation(response, operation);
            }
            catch (KoException)
            {
                // Not a session ko would talk to: nothing to cancel; the upload that follows opens its own.
            }
        }

        if (session is not null)
        {
            try
            {
                using var cancel = new HttpRequestMessage(HttpMethod.Delete, session);
                using var ignored = await SendAsync(cancel, $"cancelling the upload session of {digest} in {repository}", cancellationToken).ConfigureAwait(false);
            }
            catch (KoException)
            {
                // An abandoned upload session expires on its own; the upload that follows opens a new one.
            }
        }

        return false;
    }

    /// <summary>
    /// GET <c>/v2/REPO/tags/list</c>, following <c>Link: &lt;…&gt;; rel="next"</c> pages (at most 1000 pages): every tag of
    /// the repository, or an empty list when the repository does not exist.
    /// </summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(string repository, CancellationToken cancellationToken)
    {
        var tags = new List<string>();
        Uri? next = new(_base, $"v2/{repository}/tags/list");
        for (var page = 0; next is not null && page < 1000; page++)
        {
            var operation = $"listing the tags of {repository}";
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            using var response = await SendAsync(request, operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                break;
            }

            await EnsureAsync(response, HttpStatusCode.OK, operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);
            var body = await ReadBodyAsync(response, ResponseBody.MaxTagListBytes, "a page of the tag list", operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);

            tags.AddRange(ParseTags(body, $"registry {Host}: {operation}"));
            next = NextPage(response, request.RequestUri!);
        }

        return tags;
    }

    /// <summary>The <c>tags</c> of a tag-list page; a body that is not such JSON is <see cref="KoErrorCodes.PushFailed"/>.</summary>
    internal static IEnumerable<string> ParseTags(byte[] body, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("tags", out var list) && list.ValueKind == JsonValueKind.Array
                ? [.. list.EnumerateArray().Where(t => t.ValueKind == JsonValueKind.String).Select(t => t.GetString()!)]
                : [];
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.PushFailed, $"{where}: the answer is not valid JSON (at {JsonPosition(ex)}); the registry is broken.", ex);
        }
    }

    /// <summary>Where a JSON error is, in words (the runtime's message may be a resource key).</summary>
    internal static string JsonPosition(JsonException ex) =>
        $"line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}";

    /// <summary>
    /// The <c>rel="next"</c> target of a <c>Link</c> header, resolved against the request, or null (also when the
    /// target is not an http(s) URL).
    /// </summary>
    internal static Uri? NextPage(HttpResponseMessage response, Uri requestUri)
    {
        return response.Headers.TryGetValues("Link", out var links) ? NextPage(links, requestUri) : null;
    }

    /// <summary>
    /// The <c>rel="next"</c> target among <c>Link</c> header values, resolved against the request, or null. A target
    /// that is not a URL, not http(s), or would go from HTTPS down to plain HTTP ends the paging instead.
    /// </summary>
    internal static Uri? NextPage(IEnumerable<string> links, Uri requestUri)
    {
        foreach (var link in links.SelectMany(l => l.Split(',')))
        {
            var open = link.IndexOf('<', StringComparison.Ordinal);
            var close = link.IndexOf('>', StringComparison.Ordinal);
            if (open >= 0 && close > open && link.Contains("rel=\"next\"", StringComparison.OrdinalIgnoreCase))
            {
                if (!Util.SafeUri.TryCreate(requestUri, link[(open + 1)..close], out var next)
                    || next.Scheme is not ("http" or "https")
                    || (requestUri.Scheme == Uri.UriSchemeHttps && next.Scheme != Uri.UriSchemeHttps))
                {
                    return null;
                }

                return next;
            }
        }

        return null;
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
    /// <remarks>
    /// The text comes from the server: control characters (terminal escapes, new lines) become spaces, and it is cut
    /// at 500 characters, so a hostile registry cannot rewrite the user's terminal or flood the message.
    /// </remarks>
    internal static string DescribeErrorBody(string body)
    {
        var text = DescribeErrorBodyCore(body);
        var printable = new System.Text.StringBuilder(Math.Min(text.Length, 501));
        foreach (var ch in text)
        {
            if (printable.Length == 500)
            {
                printable.Append('…');
                break;
            }

            printable.Append(char.IsControl(ch) || ch is '\u2028' or '\u2029' ? ' ' : ch);
        }

        return printable.ToString().Trim();
    }

    private static string DescribeErrorBodyCore(string body)
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

        return body;
    }

    private Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken) =>
        SendAsync(request, operation, KoErrorCodes.PushFailed, cancellationToken);

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, string operation, string code, CancellationToken cancellationToken)
    {
        try
        {
            return await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (Unwrap(ex) is { } inner)
        {
            // A failure of ours while sending a body (a blob read from another registry, a write that timed out).
            throw inner is KoException ko ? ko : new KoException(KoErrorCodes.RegistryTimeout, $"registry {Host}: {operation}: {inner.Message}.", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new KoException(code, $"registry {Host} ({_base.Scheme}): {operation} failed: {NetworkErrors.Describe(ex)}. Check that the registry is running and reachable.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.RegistryTimeout, $"registry {Host} ({_base.Scheme}): {operation} did not finish in time. Check that the registry is running and reachable, or raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow.", ex);
        }
    }

    /// <summary>The KoException or timeout of ours inside <paramref name="exception"/>, if any.</summary>
    private static Exception? Unwrap(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is KoException or RegistryTimeoutException)
            {
                return e;
            }
        }

        return null;
    }

    private Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected, string operation, CancellationToken cancellationToken) =>
        EnsureAsync(response, expected, operation, KoErrorCodes.PushFailed, cancellationToken);

    private async Task EnsureAsync(HttpResponseMessage response, HttpStatusCode expected, string operation, string code, CancellationToken cancellationToken)
    {
        if (response.StatusCode == expected)
        {
            return;
        }

        var body = DescribeErrorBody(await ResponseBody.ReadErrorTextAsync(response, _options, cancellationToken).ConfigureAwait(false));
        var status = $"{(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd();
        var detail = body.Length > 0 ? ": " + body : string.Empty;
        if (response.RequestMessage?.RequestUri is { } answered && !string.Equals(answered.Authority, _base.Authority, StringComparison.OrdinalIgnoreCase))
        {
            // Another host answered (a redirect's or an upload location's): name it, not the registry.
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw new KoException(
                    KoErrorCodes.CredentialsWithheld,
                    $"registry {Host}: {operation}: the registry sent the request on to another host, {answered.Authority}, which answered {status}. ko sends the credentials for {Host} only to {Host} and its token service, never to another host, so that host must allow the request without them; ask the registry's operator.");
            }

            throw new KoException(code, $"registry {Host}: {operation}: the registry sent the request on to {answered.Authority}, which returned {status} (expected {(int)expected}){detail}.");
        }

        throw new KoException(code, $"registry {Host}: {operation} returned {status} (expected {(int)expected}){detail}.");
    }

    /// <summary>
    /// Reads a response body into memory, at most <paramref name="max"/> bytes within the idle timeout; a larger or
    /// stalled body, or a connection lost while reading, is a <see cref="KoException"/> naming the registry and
    /// <paramref name="operation"/> (<paramref name="code"/> for a network failure).
    /// </summary>
    private async Task<byte[]> ReadBodyAsync(HttpResponseMessage response, int max, string what, string operation, string code, CancellationToken cancellationToken)
    {
        try
        {
            return await ResponseBody.ReadAsync(response, max, _options, what, cancellationToken).ConfigureAwait(false);
        }
        catch (KoException ex) when (ex.Code is KoErrorCodes.ResponseTooLarge or KoErrorCodes.RegistryTimeout)
        {
            throw new KoException(ex.Code, $"registry {Host}: {operation}: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new KoException(code, $"registry {Host}: {operation} failed while reading the body: {NetworkErrors.Describe(ex)}.", ex);
        }
    }
}
