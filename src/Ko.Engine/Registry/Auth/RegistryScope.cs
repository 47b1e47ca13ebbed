using System.Text.RegularExpressions;

namespace Ko.Engine.Registry.Auth;

/// <summary>The token scopes a registry request needs, derived from its method and path.</summary>
internal static partial class RegistryScope
{
    [GeneratedRegex("^/v2/(?<repo>.+?)/(?:blobs|manifests|tags)(?:/|$)", RegexOptions.CultureInvariant)]
    private static partial Regex RepositoryPath();

    /// <summary>
    /// <c>repository:REPO:pull</c> for GET/HEAD and <c>repository:REPO:pull,push</c> otherwise; a cross-repository
    /// mount (<c>?from=OTHER</c>) also needs <c>repository:OTHER:pull</c>. Empty for <c>/v2/</c> itself.
    /// </summary>
    public static IReadOnlyList<string> ForRequest(HttpMethod method, Uri uri)
    {
        var match = RepositoryPath().Match(uri.AbsolutePath);
        if (!match.Success)
        {
            return [];
        }

        var repository = Uri.UnescapeDataString(match.Groups["repo"].Value);
        var read = method == HttpMethod.Get || method == HttpMethod.Head;
        var scopes = new List<string> { $"repository:{repository}:{(read ? "pull" : "pull,push")}" };
        var from = Query(uri, "from");
        if (!read && from is not null && from != repository)
        {
            scopes.Add($"repository:{from}:pull");
        }

        return scopes;
    }

    /// <summary>True when the request is a cross-repository mount attempt (which may fail and fall back).</summary>
    public static bool IsMount(Uri uri) => Query(uri, "mount") is not null;

    /// <summary>The challenge's scopes (space separated) and the request's, each once, in a stable order.</summary>
    public static IReadOnlyList<string> Merge(string? challengeScope, IReadOnlyList<string> requestScopes)
    {
        var all = new List<string>();
        foreach (var s in (challengeScope ?? string.Empty).Split(' ', StringSplitOptions.RemoveEmptyEntries).Concat(requestScopes))
        {
            if (!all.Contains(s, StringComparer.Ordinal))
            {
                all.Add(s);
            }
        }

        // A request that needs pull,push makes a pull-only scope for the same repository redundant.
        all.RemoveAll(s => s.EndsWith(":pull", StringComparison.Ordinal) && all.Contains(s + ",push", StringComparer.Ordinal));
        return all;
    }

    private static string? Query(Uri uri, string name)
    {
        foreach (var part in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=', StringComparison.Ordinal);
            var key = eq < 0 ? part : part[..eq];
            if (key == name)
            {
                return eq < 0 ? string.Empty : Uri.UnescapeDataString(part[(eq + 1)..]);
            }
        }

        return null;
    }
}
