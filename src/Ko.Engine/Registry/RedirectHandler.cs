using System.Net;

namespace Ko.Engine.Registry;

/// <summary>
/// Follows redirects itself (at most 10), above <see cref="AuthHandler"/>, so that every hop passes through the
/// credential check on its own URL: <c>Authorization</c> never travels to another host (it is dropped here too, and
/// the auth handler answers challenges for the registry's own origin only). Only <c>http</c> and <c>https</c> targets
/// are followed, never from HTTPS down to plain HTTP; anything else, or a <c>Location</c> that is not a URL, is
/// <see cref="KoErrorCodes.RedirectRefused"/> naming the registry and the target's scheme. 303 turns the request into
/// a GET without a body.
/// </summary>
internal sealed class RedirectHandler(string host, RegistryOptions options) : DelegatingHandler
{
    private const int MaxRedirects = 10;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        for (var hops = 0; hops < MaxRedirects && IsRedirect(response.StatusCode); hops++)
        {
            Uri? target;
            try
            {
                target = Target(host, request, response);
            }
            catch
            {
                response.Dispose();
                throw;
            }

            if (target is null)
            {
                break;
            }

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

    /// <summary>
    /// Where a redirect leads, or null when it names no target at all (the 3xx is then the answer); a target ko does
    /// not follow is a <see cref="KoException"/>.
    /// </summary>
    internal static Uri? Target(string registryHost, HttpRequestMessage request, HttpResponseMessage response)
    {
        var from = request.RequestUri!;
        var what = $"registry {registryHost}: {request.Method} {from.AbsolutePath} was redirected";
        var (target, problem) = Location(from, response);
        return problem switch
        {
            LocationProblem.NotAUrl => throw new KoException(KoErrorCodes.RedirectRefused, $"{what} with a Location header that is not a valid URL; the registry (or something in front of it) is broken."),
            LocationProblem.Scheme => throw new KoException(KoErrorCodes.RedirectRefused, $"{what} to a '{target!.Scheme}' URL; ko follows only http and https redirects, so the registry (or something in front of it) is broken or hostile."),
            LocationProblem.Downgrade => throw new KoException(KoErrorCodes.RedirectRefused, $"{what} from HTTPS down to plain HTTP ({target!.Authority}); ko does not follow such redirects. Ask the registry's operator to redirect to https."),
            _ => target,
        };
    }

    /// <summary>
    /// A response's <c>Location</c> resolved against <paramref name="from"/> (null target and no problem: there is
    /// none), and why ko would not go there: not a URL, not http(s), or HTTPS down to plain HTTP. Redirects and
    /// upload locations share this rule.
    /// </summary>
    internal static (Uri? Target, LocationProblem Problem) Location(Uri from, HttpResponseMessage response)
    {
        Uri? target = null;
        if (response.Headers.Location is { } location)
        {
            target = location.IsAbsoluteUri ? location : Util.SafeUri.TryCreate(from, location, out var resolved) ? resolved : null;
        }

        if (target is null)
        {
            return (null, response.Headers.NonValidated.Contains("Location") ? LocationProblem.NotAUrl : LocationProblem.None);
        }

        if (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps)
        {
            return (target, LocationProblem.Scheme);
        }

        return (target, from.Scheme == Uri.UriSchemeHttps && target.Scheme == Uri.UriSchemeHttp ? LocationProblem.Downgrade : LocationProblem.None);
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}

internal static class RedirectLog
{
    public static void LogRedirect(this Microsoft.Extensions.Logging.ILogger logger, Uri from, Uri to) =>
        Microsoft.Extensions.Logging.LoggerExtensions.LogDebug(logger, "Redirected from {From} to another host {To}; Authorization is not forwarded", from.GetLeftPart(UriPartial.Authority), to.GetLeftPart(UriPartial.Authority));
}

/// <summary>Why a <c>Location</c> is not followed, or <see cref="None"/>.</summary>
internal enum LocationProblem
{
    /// <summary>Followed (or there is no Location).</summary>
    None,

    /// <summary>The header is not a valid URL.</summary>
    NotAUrl,

    /// <summary>Not http or https.</summary>
    Scheme,

    /// <summary>From HTTPS down to plain HTTP.</summary>
    Downgrade,
}
