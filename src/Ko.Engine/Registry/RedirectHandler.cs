using System.Net;

namespace Ko.Engine.Registry;

/// <summary>
/// Follows redirects itself (at most 10), so that <c>Authorization</c> never travels to another host: a redirect
/// to a different scheme, host or port drops the header. 303 turns the request into a GET without a body.
/// </summary>
internal sealed class RedirectHandler(RegistryOptions options) : DelegatingHandler
{
    private const int MaxRedirects = 10;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        for (var hops = 0; hops < MaxRedirects && IsRedirect(response.StatusCode) && response.Headers.Location is { } location; hops++)
        {
            var target = location.IsAbsoluteUri ? location : new Uri(request.RequestUri!, location);
            response.Dispose();
            if (!SameOrigin(request.RequestUri!, target))
            {
                request.Headers.Authorization = null;
                options.Logger.LogRedirect(request.RequestUri!, target);
            }

            if (response.StatusCode == HttpStatusCode.SeeOther)
            {
                request.Method = request.Method == HttpMethod.Head ? HttpMethod.Head : HttpMethod.Get;
                request.Content = null;
            }

            request.RequestUri = target;
            response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }

        return response;
    }

    internal static bool SameOrigin(Uri a, Uri b) =>
        string.Equals(a.Scheme, b.Scheme, StringComparison.OrdinalIgnoreCase)
        && string.Equals(a.IdnHost, b.IdnHost, StringComparison.OrdinalIgnoreCase)
        && a.Port == b.Port;

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}

internal static class RedirectLog
{
    public static void LogRedirect(this Microsoft.Extensions.Logging.ILogger logger, Uri from, Uri to) =>
        Microsoft.Extensions.Logging.LoggerExtensions.LogDebug(logger, "Redirected from {From} to another host {To}; Authorization is not forwarded", from.GetLeftPart(UriPartial.Authority), to.GetLeftPart(UriPartial.Authority));
}
