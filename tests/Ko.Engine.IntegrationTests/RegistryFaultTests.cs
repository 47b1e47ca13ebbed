using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Ko.Engine.Registry;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Pushing through <see cref="FaultProxy"/> in front of the real docker-registry: transient faults are retried and
/// the image arrives whole (skopeo checks every digest); a registry that keeps failing ends in KO3002 without moving
/// the tag; redirects keep <c>Authorization</c> on the same origin only.
/// </summary>
public sealed class RegistryFaultTests : IClassFixture<RegistryFixture>, IDisposable
{
    private readonly RegistryFixture _registry;
    private readonly TempDir _dir = new("ko-fault");
    private readonly string _src;
    private volatile bool _failing;

    public RegistryFaultTests(RegistryFixture registry)
    {
        _registry = registry;
        _src = Repo.CopyHello(_dir.Combine("hello"));
    }

    public void Dispose() => _dir.Dispose();

    // Small delays so the retries take milliseconds (Retry-After still waits what it says).
    private Dictionary<string, string?> Env(string repository) =>
        Repo.Environment(_dir.Combine("cache"), new Dictionary<string, string?>
        {
            ["KO_DOCKER_REPO"] = repository,
            ["KO_REGISTRY_RETRY_INITIAL_MS"] = "20",
            ["KO_REGISTRY_RETRY_ATTEMPTS"] = "5",
        });

    private static bool IsBlobUploadPut(FaultRequest r) => r.Method == "PUT" && r.Path.Contains("/blobs/uploads/", StringComparison.Ordinal);

    private static bool IsTagPut(FaultRequest r) =>
        r.Method == "PUT" && r.Path.Contains("/manifests/", StringComparison.Ordinal) && !r.Path.Contains("/manifests/sha256:", StringComparison.Ordinal);

    [Fact]
    public async Task A_push_through_503s_a_429_with_Retry_After_and_a_reset_mid_upload_completes_and_skopeo_verifies_it()
    {
        var heads503 = 0;
        var posts = 0;
        var reset = 0;
        var manifestPuts = 0;
        await using var proxy = new FaultProxy(_registry.Port, r =>
        {
            if (r.Method == "HEAD" && r.Path.Contains("/blobs/", StringComparison.Ordinal) && Interlocked.Increment(ref heads503) <= 2)
            {
                return FaultAction.Respond(503);
            }

            if (r.Method == "POST" && r.Path.EndsWith("/blobs/uploads/", StringComparison.Ordinal) && Interlocked.Increment(ref posts) == 1)
            {
                return FaultAction.Respond(429, ("Retry-After", "1"));
            }

            if (IsBlobUploadPut(r) && r.ContentLength > 100_000 && Interlocked.Exchange(ref reset, 1) == 0)
            {
                // Half the body reaches the registry before the connection drops: the session is spoiled and the
                // client must start a new upload.
                return FaultAction.ResetAfter(r.ContentLength / 2, forward: true);
            }

            if (r.Method == "PUT" && r.Path.Contains("/manifests/", StringComparison.Ordinal) && Interlocked.Increment(ref manifestPuts) == 1)
            {
                return FaultAction.Respond(503);
            }

            return FaultAction.Forward;
        });

        var clock = Stopwatch.StartNew();
        var run = await Repo.KoAsync(Env($"{proxy.Host}/team"), "build", "-v", "-C", _src, "--platform", "linux/amd64", "-t", "faulty", ".");
        Assert.True(run.ExitCode == 0, run + "\n" + Describe(proxy));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), clock.Elapsed.ToString());

        // Every fault was injected, and each was followed by a success.
        var records = proxy.Records;
        Assert.Equal(2, records.Count(r => r.Method == "HEAD" && r.Action is FaultAction.RespondAction { Status: 503 }));
        var throttled = Assert.Single(records, r => r.Action is FaultAction.RespondAction { Status: 429 });
        Assert.Contains(records, r => r.Method == "POST" && r.Status == 202 && r.At >= throttled.At.AddMilliseconds(900));
        var cut = Assert.Single(records, r => r.Action is FaultAction.ResetAction);
        // The cut session is spoiled (the registry refuses its retried PUT), so the blob goes up in a new session.
        var digestParameter = cut.Target[cut.Target.IndexOf("digest=", StringComparison.Ordinal)..];
        Assert.Contains(records, r => r.Method == "PUT" && r.Target == cut.Target && r.Status == 404 && r.At > cut.At);
        Assert.Contains(records, r => r.Method == "PUT" && r.Target != cut.Target && r.Target.EndsWith(digestParameter, StringComparison.Ordinal) && r.Status == 201 && r.At > cut.At);
        Assert.Single(records, r => r.Method == "PUT" && r.Path.Contains("/manifests/", StringComparison.Ordinal) && r.Action is FaultAction.RespondAction { Status: 503 });
        Assert.DoesNotContain(records, r => r.Status >= 400 && r.Action is FaultAction.ForwardAction && !(r.Method == "HEAD" && r.Status == 404) && r.Target != cut.Target);

        // The 429's Retry-After: 1 was waited for (not the 20 ms backoff), and the retries were logged.
        Assert.Contains("retrying in 1000 ms", run.Stderr);
        Assert.Contains("503", run.Stderr);
        Assert.DoesNotContain("Authorization", run.Stderr);

        // The registry holds the whole image: skopeo reads it straight from the registry and checks every digest.
        // (ko prints NAME:TAG@DIGEST for a non-default tag; skopeo takes one or the other.)
        var reference = Assert.Single(run.References).Replace(proxy.Host, _registry.Host, StringComparison.Ordinal);
        var name = reference[..reference.IndexOf('@', StringComparison.Ordinal)];
        name = name.EndsWith(":faulty", StringComparison.Ordinal) ? name[..^":faulty".Length] : name;
        var digest = reference[(reference.IndexOf('@', StringComparison.Ordinal) + 1)..];
        await Tools.RunAsync("skopeo", ["copy", "--src-tls-verify=false", $"docker://{name}@{digest}", $"oci:{_dir.Combine("copy")}:x"]);
        var tagged = await Tools.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{name}:faulty"]);
        Assert.Equal(digest, JsonDocument.Parse(tagged.StandardOutput).RootElement.GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task A_registry_that_keeps_failing_tag_puts_ends_in_KO3002_in_bounded_time_and_the_tag_stays()
    {
        await using var proxy = new FaultProxy(_registry.Port, r => IsTagPut(r) && r.Path.EndsWith("/manifests/stable", StringComparison.Ordinal) && _failing
            ? FaultAction.Respond(503)
            : FaultAction.Forward);
        var env = Env($"{proxy.Host}/keep");

        // First a good push of the tag, straight through.
        _failing = false;
        var first = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", "-t", "stable", "--image-label", "round=1", ".");
        Assert.True(first.ExitCode == 0, first.ToString());
        var firstReference = Assert.Single(first.References);
        var name = firstReference[..firstReference.IndexOf('@', StringComparison.Ordinal)].Replace(proxy.Host, _registry.Host, StringComparison.Ordinal);
        name = name.EndsWith(":stable", StringComparison.Ordinal) ? name[..^":stable".Length] : name;
        var firstDigest = firstReference[(firstReference.IndexOf('@', StringComparison.Ordinal) + 1)..];

        // Then a different image for the same tag while the registry answers 503 to every tag PUT.
        _failing = true;
        var clock = Stopwatch.StartNew();
        var second = await Repo.KoAsync(env, "build", "-C", _src, "--platform", "linux/amd64", "-t", "stable", "--image-label", "round=2", ".");
        clock.Stop();
        Assert.True(second.ExitCode == 1, second.ToString());
        Assert.Contains("KO3002", second.Stderr);
        Assert.Contains(proxy.Host, second.Stderr);
        Assert.Contains("503", second.Stderr);
        Assert.Equal(string.Empty, second.Stdout);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), clock.Elapsed.ToString());

        // Every attempt (KO_REGISTRY_RETRY_ATTEMPTS=5) reached the proxy, then it stopped.
        Assert.Equal(5, proxy.Records.Count(r => r.Method == "PUT" && r.Path.EndsWith("/manifests/stable", StringComparison.Ordinal) && r.Action is FaultAction.RespondAction));

        // The tag still names the first image.
        var inspect = await Tools.RunAsync("skopeo", ["inspect", "--tls-verify=false", $"docker://{name}:stable"]);
        Assert.Equal(firstDigest, JsonDocument.Parse(inspect.StandardOutput).RootElement.GetProperty("Digest").GetString());
    }

    [Fact]
    public async Task A_registry_that_keeps_failing_a_new_tag_leaves_no_tag_behind()
    {
        await using var proxy = new FaultProxy(_registry.Port, r => IsTagPut(r) ? FaultAction.Respond(502) : FaultAction.Forward);
        var run = await Repo.KoAsync(Env($"{proxy.Host}/never"), "build", "-C", _src, "--platform", "linux/amd64", "-t", "fresh", ".");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("KO3002", run.Stderr);
        Assert.Contains(proxy.Host, run.Stderr);
        Assert.Contains("502", run.Stderr);

        var tagPut = proxy.Records.First(r => r.Method == "PUT" && r.Path.EndsWith("/manifests/fresh", StringComparison.Ordinal));
        var name = tagPut.Path["/v2/".Length..tagPut.Path.IndexOf("/manifests/", StringComparison.Ordinal)];
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        using var head = new HttpRequestMessage(HttpMethod.Head, $"http://{_registry.Host}/v2/{name}/manifests/fresh");
        head.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        using var response = await http.SendAsync(head);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_redirect_to_another_port_drops_Authorization_and_a_same_origin_redirect_keeps_it()
    {
        // A blob to fetch: pushed straight to the registry.
        var payload = "redirected blob"u8.ToArray();
        var digest = "sha256:" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload));
        using (var direct = new HttpClient { BaseAddress = new Uri($"http://{_registry.Host}/"), Timeout = TimeSpan.FromSeconds(10) })
        {
            using var start = await direct.PostAsync("v2/redirect/app/blobs/uploads/", new ByteArrayContent([]));
            Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
            var location = new Uri(direct.BaseAddress, start.Headers.Location!);
            using var put = await direct.PutAsync(RegistryClient.AppendDigest(location, Oci.Digest.Parse(digest)), new ByteArrayContent(payload));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        }

        // The other origin: a second proxy on another loopback port, recording what reaches it.
        await using var other = new FaultProxy(_registry.Port, _ => FaultAction.Forward);
        await using var front = new FaultProxy(_registry.Port, r =>
            r.Method == "GET" && r.Path.EndsWith(digest, StringComparison.Ordinal) && !r.Target.Contains("same=1", StringComparison.Ordinal)
                ? FaultAction.Respond(307, ("Location", r.Target.Contains("cross=1", StringComparison.Ordinal) ? $"http://{other.Host}{r.Path}" : $"{r.Path}?same=1"))
                : FaultAction.Forward);

        using var client = new HttpClient(RegistryTransport.CreateHandler(front.Host, new RegistryOptions()), disposeHandler: true)
        {
            BaseAddress = RegistryTransport.BaseAddress(front.Host, new RegistryOptions()),
            Timeout = TimeSpan.FromSeconds(20),
        };

        foreach (var cross in new[] { true, false })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"v2/redirect/app/blobs/{digest}{(cross ? "?cross=1" : string.Empty)}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-for-other-hosts");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(payload, await response.Content.ReadAsByteArrayAsync());
        }

        // The first hop carried the header both times; the other port never saw it; the same origin did.
        Assert.All(front.Records.Where(r => r.Action is FaultAction.RespondAction { Status: 307 }), r => Assert.True(r.HadAuthorization));
        var atOther = Assert.Single(other.Records);
        Assert.Equal("GET", atOther.Method);
        Assert.False(atOther.HadAuthorization, "Authorization followed a redirect to another port");
        var sameOrigin = Assert.Single(front.Records, r => r.Target.Contains("same=1", StringComparison.Ordinal));
        Assert.True(sameOrigin.HadAuthorization, "Authorization was dropped on a same-origin redirect");
        Assert.Equal(200, sameOrigin.Status);
    }

    private static string Describe(FaultProxy proxy) =>
        string.Join("\n", proxy.Records.Select(r => $"{r.At:HH:mm:ss.fff} {r.Method} {r.Path} len={r.ContentLength} {r.Action.GetType().Name} -> {r.Status}"));
}
