using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ko.Engine.Registry.Credentials;

/// <summary>
/// <c>dotnet ko login</c>: checks a user name and password against the registry's <c>/v2/</c> (answering its
/// challenge as a push would), then stores them as <c>docker login</c> does: through the credential helper
/// config.json names for the registry (<c>credHelpers</c>, else <c>credsStore</c>), else as <c>auths[REGISTRY].auth</c>
/// in config.json, which is created 0600 in a 0700 directory and otherwise rewritten atomically with all its other keys.
/// </summary>
internal static class RegistryLogin
{
    private const UnixFileMode DirectoryMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode PrivateFileMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Verifies the credential and stores it; returns where it was stored (a file path or a helper name).</summary>
    public static async Task<string> LoginAsync(string registry, string username, string password, RegistryOptions options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(registry);
        ArgumentException.ThrowIfNullOrEmpty(username);
        ArgumentNullException.ThrowIfNull(password);
        if (References.ImageReference.Redact(registry) != registry)
        {
            // Never echoed, never stored as a config.json key, never sent as URI user information.
            throw new KoException(KoErrorCodes.InvalidOption, $"registry '{References.ImageReference.Redact(registry)}' holds a user name or password; name the registry alone (registry.example.com) and give the user with --username and the password on standard input with --password-stdin.");
        }

        var host = DockerConfig.NormalizeKey(registry);
        if (host == "index.docker.io")
        {
            host = "registry-1.docker.io";
        }

        await VerifyAsync(host, new RegistryCredential(username, password), options, cancellationToken).ConfigureAwait(false);
        return await StoreAsync(registry, username, password, options.Environment, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>GET <c>/v2/</c> with the credential; a refusal is <see cref="KoErrorCodes.AuthenticationFailed"/>.</summary>
    internal static async Task VerifyAsync(string host, RegistryCredential credential, RegistryOptions options, CancellationToken cancellationToken)
    {
        var verifying = RetryHandler.FromEnvironment(options with { Credentials = new FixedCredentials(credential) });
        using var http = new HttpClient(RegistryTransport.CreateHandler(host, verifying), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
        var uri = new Uri(RegistryTransport.BaseAddress(host, verifying), "v2/");
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (RegistryTimeoutException ex)
        {
            throw new KoException(KoErrorCodes.RegistryTimeout, $"registry {host}: cannot log in: {ex.Message}.", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {host}: cannot log in, the registry could not be reached: {NetworkErrors.Describe(ex)}.", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.RegistryTimeout, $"registry {host}: cannot log in, the registry did not answer in time. Raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow.", ex);
        }

        using (response)
        {
            if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden)
            {
                throw AuthHandler.Rejected(host, credential, $"GET /v2/ answered {(int)response.StatusCode}");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new KoException(KoErrorCodes.AuthenticationFailed, $"registry {host}: GET /v2/ answered {(int)response.StatusCode} {response.ReasonPhrase}; it does not look like a registry (OCI distribution API).");
            }
        }
    }

    /// <summary>
    /// config.json as an editable object. The credential reader checks it first, so a syntax error names only its
    /// position (the text around it may be a password); a key written twice keeps its last value, as docker reads it.
    /// </summary>
    internal static JsonObject ParseConfigObject(string text, string path)
    {
        DockerConfig.Parse(text, path);
        using var document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        return ToNode(document.RootElement.Clone()) as JsonObject // the clone outlives the document the values point into
            ?? throw new KoException(KoErrorCodes.AuthenticationFailed, $"{path} is not a JSON object; fix or remove it.");
    }

    private static JsonNode? ToNode(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var obj = new JsonObject();
                foreach (var property in element.EnumerateObject())
                {
                    obj[property.Name] = ToNode(property.Value); // the indexer replaces: the last of two equal keys wins
                }

                return obj;
            case JsonValueKind.Array:
                return new JsonArray([.. element.EnumerateArray().Select(ToNode)]);
            default:
                return JsonValue.Create(element);
        }
    }

    /// <summary>Stores the credential as docker login does; returns the helper name or the config.json path.</summary>
    internal static async Task<string> StoreAsync(string registry, string username, string password, IReadOnlyDictionary<string, string?> environment, CancellationToken cancellationToken)
    {
        var dir = DockerCredentials.ConfigDirectory(environment)
            ?? throw new KoException(KoErrorCodes.AuthenticationFailed, "cannot find where to store the credential: neither DOCKER_CONFIG nor HOME is set.");
        var path = Path.Combine(dir, "config.json");
        var text = DockerCredentials.ReadText(path);
        var root = text is null ? new JsonObject() : ParseConfigObject(text.Trim().Length == 0 ? "{}" : text, path);

        var key = ConfigKey(registry);
        var config = DockerConfig.Parse(root.ToJsonString(), path);
        var helper = config.HelperFor(key) ?? config.CredsStore;
        var auths = root["auths"] as JsonObject;
        if (auths is null)
        {
            auths = new JsonObject();
            root["auths"] = auths;
        }

        // One entry per registry: other spellings of the same host would shadow the new one.
        foreach (var other in auths.Select(kv => kv.Key).Where(k => k != key && DockerConfig.NormalizeKey(k) == DockerConfig.NormalizeKey(key)).ToList())
        {
            auths.Remove(other);
        }

        string storedIn;
        if (helper is not null)
        {
            await CredentialHelper.StoreAsync(helper, DockerCredentials.HelperServer(key), username, password, environment, cancellationToken).ConfigureAwait(false);
            auths[key] = new JsonObject();
            storedIn = "docker-credential-" + helper;
        }
        else
        {
            auths[key] = new JsonObject { ["auth"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"{username}:{password}")) };
            storedIn = path;
        }

        await WriteAtomicallyAsync(dir, path, root, cancellationToken).ConfigureAwait(false);
        return storedIn;
    }

    /// <summary>The config.json key docker login uses: the registry as given, docker.io as its v1 URL.</summary>
    internal static string ConfigKey(string registry)
    {
        var trimmed = registry.Trim();
        if (DockerConfig.NormalizeKey(trimmed) == "index.docker.io")
        {
            return "https://index.docker.io/v1/";
        }

        var scheme = trimmed.IndexOf("://", StringComparison.Ordinal);
        return (scheme >= 0 ? trimmed[(scheme + 3)..] : trimmed).TrimEnd('/');
    }

    private static async Task WriteAtomicallyAsync(string dir, string path, JsonObject root, CancellationToken cancellationToken)
    {
        try
        {
            if (!Directory.Exists(dir))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(dir);
                }
                else
                {
                    Directory.CreateDirectory(dir, DirectoryMode);
                }
            }

            var temp = Path.Combine(dir, $".config.json.{Guid.NewGuid():N}.tmp");
            try
            {
                var streamOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous };
                if (!OperatingSystem.IsWindows())
                {
                    streamOptions.UnixCreateMode = PrivateFileMode;
                }

                var stream = new FileStream(temp, streamOptions);
                await using (stream.ConfigureAwait(false))
                {
                    var writer = new Utf8JsonWriter(stream, new JsonWriterOptions
                    {
                        Indented = true,
#if NET9_0_OR_GREATER
                        IndentCharacter = '\t', // docker's config.json indentation; .NET 8 indents with two spaces
                        IndentSize = 1,
#endif
                    });
                    await using (writer.ConfigureAwait(false))
                    {
                        root.WriteTo(writer);
                    }

                    await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
                    stream.Flush(flushToDisk: true);
                }

                File.Move(temp, path, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp))
                {
                    File.Delete(temp);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.AuthenticationFailed, $"cannot write {path}: {ex.Message}.", ex);
        }
    }

    /// <summary>One credential for whatever host asks.</summary>
    private sealed class FixedCredentials(RegistryCredential credential) : ICredentialProvider
    {
        public ValueTask<RegistryCredential?> GetAsync(string registryHost, CancellationToken cancellationToken) => ValueTask.FromResult<RegistryCredential?>(credential);
    }
}
