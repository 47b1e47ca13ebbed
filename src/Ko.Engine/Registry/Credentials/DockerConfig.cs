using System.Text;
using System.Text.Json;

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

    /// <summary>
    /// Parses config.json text. Malformed entries are skipped; malformed JSON is an error naming the file. A key
    /// written twice counts once, with its last value (as docker reads it).
    /// </summary>
    public static DockerConfig Parse(string json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException ex)
        {
            // Only the position: the reader's message can quote the text around the error, which may be a secret.
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{path} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}); fix or remove it.", ex);
        }
        catch (ArgumentException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"{path} is not valid UTF-8 text; fix or remove it.", ex);
        }

        using (document)
        {
            var auths = new Dictionary<string, RegistryCredential>(StringComparer.OrdinalIgnoreCase);
            var helpers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            var root = document.RootElement;
            foreach (var (key, value) in Members(root, "auths"))
            {
                if (value.ValueKind == JsonValueKind.Object && ParseEntry(value) is { } credential)
                {
                    auths.TryAdd(NormalizeKey(key), credential);
                }
            }

            foreach (var (key, value) in Members(root, "credHelpers"))
            {
                if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } helper)
                {
                    helpers.TryAdd(NormalizeKey(key), helper);
                }
            }

            var store = Member(root, "credsStore") is { ValueKind: JsonValueKind.String } s && s.GetString() is { Length: > 0 } name ? name : null;
            return new DockerConfig(auths, helpers, store);
        }
    }

    // The last value of a property of an object (JSON allows a name twice; the last one wins), or null.
    private static JsonElement? Member(JsonElement element, string name)
    {
        JsonElement? found = null;
        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                if (property.NameEquals(name))
                {
                    found = property.Value;
                }
            }
        }

        return found;
    }

    // The members of an object-valued property, each name once with its last value, in the order first written.
    private static IEnumerable<(string Key, JsonElement Value)> Members(JsonElement root, string name)
    {
        if (Member(root, name) is not { ValueKind: JsonValueKind.Object } obj)
        {
            return [];
        }

        var order = new List<string>();
        var values = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            if (!values.ContainsKey(property.Name))
            {
                order.Add(property.Name);
            }

            values[property.Name] = property.Value;
        }

        return order.Select(k => (k, values[k])).ToList();
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

    private static RegistryCredential? ParseEntry(JsonElement entry)
    {
        string? Str(string name) => Member(entry, name) is { ValueKind: JsonValueKind.String } v && v.GetString() is { Length: > 0 } s ? s : null;

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
