using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using k8s;
using k8s.Exceptions;
using Ko.Engine.Configuration;
using Microsoft.Extensions.Logging;

namespace Ko.Engine.Kubernetes;

/// <summary>A resource the API server serves, from discovery.</summary>
/// <param name="Plural">The resource name in paths, e.g. <c>deployments</c>.</param>
/// <param name="Display">The name results use, e.g. <c>deployment.apps</c>.</param>
/// <param name="Namespaced">Whether objects live in a namespace.</param>
/// <param name="GroupVersionPath">The path prefix, <c>/api/v1</c> or <c>/apis/GROUP/VERSION</c>.</param>
internal sealed record ApiResource(string Plural, string Display, bool Namespaced, string GroupVersionPath);

/// <summary>
/// Talks to a Kubernetes API server through KubernetesClient's configured <see cref="HttpClient"/> and credentials
/// (kubeconfig, context, client certificates, tokens): discovery, server-side apply, create and delete.
/// </summary>
internal sealed class KubeClient : IDisposable
{
    /// <summary>The field manager ko uses for server-side apply.</summary>
    public const string FieldManager = "ko";

    private readonly k8s.Kubernetes _client;
    private readonly string _server;
    private readonly ILogger _logger;
    private readonly Dictionary<string, IReadOnlyList<(string Kind, string Plural, string Singular, bool Namespaced)>> _discovery = new(StringComparer.Ordinal);

    private KubeClient(k8s.Kubernetes client, string defaultNamespace, ILogger logger)
    {
        _client = client;
        _server = client.BaseUri.ToString().TrimEnd('/');
        DefaultNamespace = defaultNamespace;
        _logger = logger;
    }

    /// <summary>The namespace for namespaced objects that name none.</summary>
    public string DefaultNamespace { get; }

    /// <summary>Loads the kubeconfig (explicit, else <c>KUBECONFIG</c>, else <c>~/.kube/config</c>) for <paramref name="context"/>.</summary>
    /// <exception cref="KoException"><c>KO4005</c> when no kubeconfig can be read.</exception>
    public static KubeClient Create(string? kubeconfig, string? context, string? ns, IReadOnlyDictionary<string, string?> environment, ILogger logger)
    {
        var files = new List<string>();
        if (!string.IsNullOrEmpty(kubeconfig))
        {
            files.Add(kubeconfig);
        }
        else if (environment.TryGetValue("KUBECONFIG", out var list) && !string.IsNullOrWhiteSpace(list))
        {
            // KUBECONFIG may list several files; the first one that exists is used (contexts are not merged).
            files.AddRange(list.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Where(File.Exists).Take(1));
        }
        else if (environment.TryGetValue("HOME", out var home) && !string.IsNullOrEmpty(home))
        {
            files.Add(Path.Combine(home, ".kube", "config"));
        }

        var missing = files.FirstOrDefault(f => !File.Exists(f));
        if (files.Count == 0 || missing is not null)
        {
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"no kubeconfig found{(missing is null ? string.Empty : $" at {missing}")}: pass --kubeconfig, set KUBECONFIG or write ~/.kube/config.");
        }

        try
        {
            var config = KubernetesClientConfiguration.LoadKubeConfig(new FileInfo(files[0]), useRelativePaths: true);
            var settings = KubernetesClientConfiguration.BuildConfigFromConfigObject(config, currentContext: context);
            var client = new k8s.Kubernetes(settings);
            return new KubeClient(client, ns ?? settings.Namespace ?? "default", logger);
        }
        catch (Exception ex) when (ex is KubeConfigException or IOException or UnauthorizedAccessException or FormatException or YamlDotNet.Core.YamlException)
        {
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"cannot use the kubeconfig {string.Join(Path.PathSeparator, files)}{(context is null ? string.Empty : $" with context '{context}'")}: {ex.Message}. Check the file and --context.", ex);
        }
    }

    /// <summary>Checks that the server answers core API discovery.</summary>
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        using var doc = await GetJsonAsync("/api", cancellationToken).ConfigureAwait(false);
        _logger.LogDebug("The API server at {Server} answered discovery", _server);
    }

    /// <summary>Finds the resource that serves <paramref name="apiVersion"/> <paramref name="kind"/>.</summary>
    /// <exception cref="KoException"><c>KO4006</c> when the server does not serve the kind.</exception>
    public async Task<ApiResource> ResourceAsync(string apiVersion, string kind, string group, CancellationToken cancellationToken)
    {
        var path = group.Length == 0 ? $"/api/{apiVersion}" : $"/apis/{apiVersion}";
        for (var attempt = 0; attempt < 2; attempt++)
        {
            if (attempt > 0 || !_discovery.TryGetValue(path, out var resources))
            {
                resources = await DiscoverAsync(path, cancellationToken).ConfigureAwait(false);
                _discovery[path] = resources;
            }

            foreach (var r in resources)
            {
                if (r.Kind == kind && !r.Plural.Contains('/'))
                {
                    var singular = r.Singular.Length > 0 ? r.Singular : kind.ToLowerInvariant();
                    return new ApiResource(r.Plural, group.Length == 0 ? singular : $"{singular}.{group}", r.Namespaced, path);
                }
            }
        }

        throw new KoException(KoErrorCodes.UnknownKind, $"the cluster at {_server} does not serve kind {kind} in {apiVersion}: check apiVersion and kind, or install the CustomResourceDefinition first.");
    }

    /// <summary>Server-side apply: PATCH with <c>application/apply-patch+yaml</c>, field manager <c>ko</c>.</summary>
    public async Task<KoObjectResult> ApplyAsync(KubeObject obj, bool force, CancellationToken cancellationToken)
    {
        var (resource, ns) = await LocateAsync(obj, cancellationToken).ConfigureAwait(false);
        var query = $"?fieldManager={FieldManager}{(force ? "&force=true" : string.Empty)}";
        using var request = new HttpRequestMessage(HttpMethod.Patch, Url(ObjectPath(resource, ns, obj.Name) + query))
        {
            Content = Body(obj, "application/apply-patch+yaml"),
        };
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "apply", resource, obj, cancellationToken).ConfigureAwait(false);
        return new KoObjectResult(resource.Display, obj.Name, ns, "serverside-applied");
    }

    /// <summary>Creates the object: POST to its collection.</summary>
    public async Task<KoObjectResult> CreateAsync(KubeObject obj, CancellationToken cancellationToken)
    {
        var (resource, ns) = await LocateAsync(obj, cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(CollectionPath(resource, ns) + $"?fieldManager={FieldManager}"))
        {
            Content = Body(obj, "application/json"),
        };
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "create", resource, obj, cancellationToken).ConfigureAwait(false);
        return new KoObjectResult(resource.Display, obj.Name, ns, "created");
    }

    /// <summary>Deletes the object; a missing one is reported as <c>not found</c> or, unless ignored, an error.</summary>
    public async Task<KoObjectResult> DeleteAsync(KubeObject obj, bool ignoreNotFound, CancellationToken cancellationToken)
    {
        var (resource, ns) = await LocateAsync(obj, cancellationToken).ConfigureAwait(false);
        using var request = new HttpRequestMessage(HttpMethod.Delete, Url(ObjectPath(resource, ns, obj.Name)));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound)
        {
            if (!ignoreNotFound)
            {
                throw new KoException(KoErrorCodes.ObjectNotFound, $"{resource.Display}/{obj.Name}{(ns is null ? string.Empty : $" in namespace {ns}")} does not exist. Pass --ignore-not-found to report missing objects without failing.");
            }

            return new KoObjectResult(resource.Display, obj.Name, ns, "not found");
        }

        await EnsureSuccessAsync(response, "delete", resource, obj, cancellationToken).ConfigureAwait(false);
        return new KoObjectResult(resource.Display, obj.Name, ns, "deleted");
    }

    public void Dispose() => _client.Dispose();

    private async Task<(ApiResource Resource, string? Namespace)> LocateAsync(KubeObject obj, CancellationToken cancellationToken)
    {
        var resource = await ResourceAsync(obj.ApiVersion, obj.Kind, obj.Group, cancellationToken).ConfigureAwait(false);
        return (resource, resource.Namespaced ? obj.Namespace ?? DefaultNamespace : null);
    }

    private static string CollectionPath(ApiResource resource, string? ns) =>
        ns is null ? $"{resource.GroupVersionPath}/{resource.Plural}" : $"{resource.GroupVersionPath}/namespaces/{Uri.EscapeDataString(ns)}/{resource.Plural}";

    private static string ObjectPath(ApiResource resource, string? ns, string name) => $"{CollectionPath(resource, ns)}/{Uri.EscapeDataString(name)}";

    private static ByteArrayContent Body(KubeObject obj, string mediaType)
    {
        var content = new ByteArrayContent(obj.Json);
        content.Headers.ContentType = new MediaTypeHeaderValue(mediaType);
        return content;
    }

    private Uri Url(string pathAndQuery) => new(_server + pathAndQuery);

    private async Task<IReadOnlyList<(string Kind, string Plural, string Singular, bool Namespaced)>> DiscoverAsync(string path, CancellationToken cancellationToken)
    {
        using var doc = await GetJsonAsync(path, cancellationToken, notFoundIsEmpty: true).ConfigureAwait(false);
        var result = new List<(string, string, string, bool)>();
        if (doc is not null && doc.RootElement.TryGetProperty("resources", out var resources) && resources.ValueKind == JsonValueKind.Array)
        {
            foreach (var r in resources.EnumerateArray())
            {
                result.Add((
                    r.TryGetProperty("kind", out var k) ? k.GetString() ?? string.Empty : string.Empty,
                    r.TryGetProperty("name", out var n) ? n.GetString() ?? string.Empty : string.Empty,
                    r.TryGetProperty("singularName", out var s) ? s.GetString() ?? string.Empty : string.Empty,
                    r.TryGetProperty("namespaced", out var ns) && ns.ValueKind == JsonValueKind.True));
            }
        }

        _logger.LogDebug("Discovery of {Path}: {Count} resource(s)", path, result.Count);
        return result;
    }

    private async Task<JsonDocument?> GetJsonAsync(string path, CancellationToken cancellationToken, bool notFoundIsEmpty = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Url(path));
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        using var response = await SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (notFoundIsEmpty && response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }

        if (!response.IsSuccessStatusCode)
        {
            var reason = await StatusMessageAsync(response, cancellationToken).ConfigureAwait(false);
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"the cluster at {_server} answered GET {path} with {(int)response.StatusCode} {response.ReasonPhrase}{reason}. Check the kubeconfig's credentials and --context.");
        }

        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
            return await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (JsonException ex)
        {
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"the server at {_server} answered GET {path} with something that is not JSON: is it a Kubernetes API server?", ex);
        }
    }

    private async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            if (_client.Credentials is not null)
            {
                await _client.Credentials.ProcessHttpRequestAsync(request, cancellationToken).ConfigureAwait(false);
            }

            _logger.LogDebug("{Method} {Path}", request.Method, request.RequestUri!.PathAndQuery);
            return await _client.HttpClient.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"cannot reach the cluster at {_server}: {ex.Message}. Check that it runs and that the kubeconfig and --context name it.", ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KoException(KoErrorCodes.ClusterUnreachable, $"the cluster at {_server} did not answer in time. Check that it runs and that the kubeconfig and --context name it.", ex);
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string verb, ApiResource resource, KubeObject obj, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        var reason = await StatusMessageAsync(response, cancellationToken).ConfigureAwait(false);
        throw new KoException(KoErrorCodes.ApplyFailed, $"{obj.Source}: cannot {verb} {resource.Display}/{obj.Name}: the cluster answered {(int)response.StatusCode} {response.ReasonPhrase}{reason}.");
    }

    private static async Task<string> StatusMessageAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            using var doc = JsonDocument.Parse(text);
            return doc.RootElement.TryGetProperty("message", out var m) && m.GetString() is { Length: > 0 } message ? $": {message}" : string.Empty;
        }
        catch (JsonException)
        {
            return string.Empty;
        }
    }
}
