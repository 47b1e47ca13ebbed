using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.Registry.Credentials;

/// <summary>
/// Reads docker's <c>config.json</c> (and podman's <c>auth.json</c>, which has the same <c>auths</c>): entries with
/// <c>auth</c> (base64 <c>user:password</c>), <c>username</c>/<c>password</c> or <c>identitytoken</c>, keyed by a
/// host, <c>host:port</c> or a URL such as <c>https://index.docker.io/v1/</c>; plus <c>credHelpers</c> and
/// <c>credsStore</c>.
/// </summary>
internal sealed class DockerConfig
{
    private readonly Dictionary<string, RegistryCredential> _auths;
    private readonly Dictionary<string, string> _helpers;

    private DockerConfig(Dictionary<string, RegistryCredential> auths, Dictionary<string, string> helpers, string? credsStore)
    {
        _auths = auths;
        _helpers = helpers;
        CredsStore = credsStore;
    }

    /// <summary>The default credential helper (<c>credsStore</c>), if any.</summary>
    public string? CredsStore { get; }

    /// <summary>The credential helper named for <paramref name="host"/> in <c>credHelpers</c>, if any.</summary>
    public string? HelperFor(string host)
    {
        foreach (var key in Aliases(host))
        {
            if (_helpers.TryGetValue(key, out var helper))
            {
                return helper;
            }
        }

        return null;
    }

    /// <summary>The <c>auths</c> entry for <paramref name="host"/>, if any.</summary>
    public RegistryCredential? AuthFor(string host)
    {
        foreach (var key in Aliases(host))
        {
            if (_auths.TryGetValue(key, out var credential))
            {
                return credential;
            }
        }

        return null;
    }

    /// <summary>Parses config.json text. Malformed entries are skipped; malformed JSON is an error naming the file.</summary>
    public static DockerConfig Parse(string json, string path)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{path} is not valid JSON ({ex.Message}); fix or remove it.", ex);
        }

        var auths = new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase);
        var helpers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        string? store = null;
        if (root is JsonObject obj)
        {
            if (obj["auths"] is JsonObject entries)
            {
                foreach (var (key, value) in entries)
                {
                    if (value is JsonObject entry && ParseEntry(entry) is { } credential)
                    {
                        auths.TryAdd(NormalizeKey(key), credential);
                    }
                }
            }

            if (obj["credHelpers"] is JsonObject named)
            {
                foreach (var (key, value) in named)
                {
                    if (value is JsonValue v && v.TryGetValue<string>(out var helper) && helper.Length > 0)
                    {
                        helpers.TryAdd(NormalizeKey(key), helper);
                    }
                }
            }

            if (obj["credsStore"] is JsonValue s && s.TryGetValue<string>(out var name) && name.Length > 0)
            {
                store = name;
            }
        }

        return new DockerConfig(auths, helpers, store);
    }

    /// <summary>
    /// A config key as <c>host[:port]</c>: the scheme and any path dropped, lower case. docker.io's many spellings
    /// become <c>index.docker.io</c>.
    /// </summary>
    internal static string NormalizeKey(string key)
    {
        var k = key.Trim();
        var scheme = k.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            k = k[(scheme + 3)..];
        }

        var slash = k.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0)
        {
            k = k[..slash];
        }

        k = k.ToLowerInvariant();
        return k is "docker.io" or "registry-1.docker.io" or "registry.hub.docker.com" ? "index.docker.io" : k;
    }

    private static IEnumerable<string> Aliases(string host)
    {
        yield return NormalizeKey(host);
    }

    private static RegistryCredential? ParseEntry(JsonObject entry)
    {
        string? Str(string name) => entry[name] is JsonValue v && v.TryGetValue<string>(out var s) && s.Length > 0 ? s : null;

        var identityToken = Str("identitytoken");
        var username = Str("username");
        var password = Str("password");
        if (Str("auth") is { } auth)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(auth));
                var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    username = decoded[..colon];
                    password = decoded[(colon + 1)..];
                }
            }
            catch (FormatException)
            {
                // Not base64: the other fields may still say something.
            }
        }

        if (identityToken is not null)
        {
            return new RegistryCredential(username, null, identityToken);
        }

        return username is not null && password is not null ? new RegistryCredential(username, password) : null;
    }
}
