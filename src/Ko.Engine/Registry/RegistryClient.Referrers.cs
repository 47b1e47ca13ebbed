using System.Net;
using System.Net.Http.Headers;
using Ko.Engine.Oci;

namespace Ko.Engine.Registry;

internal sealed partial class RegistryClient
{
    /// <summary>The largest referrers index read (one page).</summary>
    private const int MaxReferrersBytes = 4 << 20;

    /// <summary>
    /// GET <c>/v2/REPO/referrers/DIGEST</c> (OCI distribution 1.1): the referrers of <paramref name="subject"/> when the
    /// registry offers the API, or null when it does not: 404 (docker-registry 2.8 and other 1.0 registries), 400, 405
    /// or 501, or an answer that is not an OCI image index. A failing registry is a <see cref="KoException"/> as for any
    /// request; the index is read bounded and parsed as hostile input.
    /// </summary>
    public async Task<Oci.Index?> ReferrersAsync(string repository, Digest subject, CancellationToken cancellationToken)
    {
        var operation = $"listing the referrers of {repository}@{subject}";
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_base, $"v2/{repository}/referrers/{subject}"));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(MediaTypes.OciIndex));
        using var response = await SendAsync(request, operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented)
        {
            return null;
        }

        await EnsureAsync(response, HttpStatusCode.OK, operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);
        if (response.Content.Headers.ContentType?.MediaType != MediaTypes.OciIndex)
        {
            return null; // a catch-all page, not the API
        }

        var body = await ReadBodyAsync(response, MaxReferrersBytes, "the referrers index", operation, KoErrorCodes.PushFailed, cancellationToken).ConfigureAwait(false);

        try
        {
            return Oci.Index.Parse(body, $"registry {Host}: the referrers of {repository}@{subject}");
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            return null; // not an index: treated as no API, so the tag scheme is used
        }
    }
}
