using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Registry;
using Ko.Engine.Sinks;

namespace Ko.Engine.Tests;

public class RegistryClientTests
{
    private static readonly Digest Empty = Digest.Parse("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

    [Theory]
    [InlineData("localhost", true)]
    [InlineData("localhost:5000", true)]
    [InlineData("LOCALHOST:5000", true)]
    [InlineData("127.0.0.1:5000", true)]
    [InlineData("127.1.2.3", true)]
    [InlineData("[::1]:5000", true)]
    [InlineData("[::1]", true)]
    [InlineData("registry.example:5000", false)]
    [InlineData("10.0.0.1:5000", false)]
    [InlineData("localhost.example.com", false)]
    [InlineData("[::2]:5000", false)]
    public void Only_loopback_hosts_are_plain_http(string host, bool loopback)
    {
        Assert.Equal(loopback, RegistryClient.IsLoopback(host));
        using var client = new RegistryClient(host, new RegistryOptions());
        Assert.Equal(loopback ? "http" : "https", client.BaseAddress.Scheme);
    }

    [Theory]
    [InlineData("http://r:5000/v2/a/blobs/uploads/u1", "http://r:5000/v2/a/blobs/uploads/u1?digest=sha256%3A")]
    [InlineData("http://r:5000/v2/a/blobs/uploads/u1?_state=abc%3D", "http://r:5000/v2/a/blobs/uploads/u1?_state=abc%3D&digest=sha256%3A")]
    public void The_digest_is_appended_to_the_upload_locations_query(string location, string expectedPrefix)
    {
        var uri = RegistryClient.AppendDigest(new Uri(location), Empty);
        Assert.Equal(expectedPrefix + Empty.Hex, uri.AbsoluteUri);
    }

    [Fact]
    public void Registry_errors_are_described_by_their_messages()
    {
        var body = "{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown to registry\",\"detail\":\"x\"},{\"code\":\"DENIED\",\"message\":\"requested access to the resource is denied\"}]}";
        Assert.Equal("BLOB_UNKNOWN: blob unknown to registry; DENIED: requested access to the resource is denied", RegistryClient.DescribeErrorBody(body));
        Assert.Equal("plain text", RegistryClient.DescribeErrorBody(" plain text\n"));
        Assert.Equal(string.Empty, RegistryClient.DescribeErrorBody(""));
    }

    [Theory]
    [InlineData("127.0.0.1:5000/team/hello-abc", "127.0.0.1:5000", "team/hello-abc")]
    [InlineData("localhost/app", "localhost", "app")]
    [InlineData("registry.example/a/b/c", "registry.example", "a/b/c")]
    [InlineData("team/hello", "registry-1.docker.io", "team/hello")]
    [InlineData("hello", "registry-1.docker.io", "library/hello")]
    public void Image_names_split_into_registry_and_repository(string name, string host, string repository)
    {
        Assert.Equal((host, repository), RegistryPublisher.ParseName(name));
    }

    [Theory]
    [InlineData("registry.example:5000")]
    [InlineData("registry.example:5000/Team/Hello")]
    public void Names_without_a_repository_or_with_bad_characters_are_refused(string name)
    {
        var ex = Assert.Throws<KoException>(() => RegistryPublisher.ParseName(name));
        Assert.Equal(KoErrorCodes.InvalidOption, ex.Code);
    }

    [Theory]
    [InlineData("</v2/a/tags/list?last=x&n=1>; rel=\"next\"", "http://r:5000/v2/a/tags/list?last=x&n=1")]
    [InlineData("<http://other:1/v2/a/tags/list?n=2>; rel=\"next\"", "http://other:1/v2/a/tags/list?n=2")]
    [InlineData("</v2/a/tags/list?last=x>; rel=\"prev\"", null)]
    [InlineData("<http://[::1/v2/a/tags/list>; rel=\"next\"", null)]
    [InlineData("<file:///etc/passwd>; rel=\"next\"", null)]
    [InlineData("<ftp://r/v2/a/tags/list>; rel=\"next\"", null)]
    public void Tag_list_pages_follow_the_next_link(string link, string? expected)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("Link", link);
        Assert.Equal(expected, RegistryClient.NextPage(response, new Uri("http://r:5000/v2/a/tags/list"))?.ToString());
    }

    [Theory]
    [InlineData("{\"errors\":[{\"code\":\"DENIED\",\"message\":\"no\\u001b[2J\\u001b]0;pwned\\u0007 way\\r\\nError: fake\"}]}", "DENIED: no [2J ]0;pwned  way  Error: fake")]
    [InlineData("plain\u001b[31mred\u009b text", "plain [31mred  text")]
    public void Error_text_from_a_registry_cannot_carry_terminal_escapes_or_new_lines(string body, string expected) =>
        Assert.Equal(expected, RegistryClient.DescribeErrorBody(body));

    [Fact]
    public void Error_text_from_a_registry_is_cut_at_500_characters() =>
        Assert.Equal(new string('x', 500) + "…", RegistryClient.DescribeErrorBody(new string('x', 5000)));

    [Fact]
    public void A_tag_list_that_is_not_JSON_is_a_KoException_with_a_position_not_the_runtimes_text()
    {
        Assert.Equal(["a", "b"], RegistryClient.ParseTags("{\"tags\":[\"a\",\"b\",3]}"u8.ToArray(), "w"));
        Assert.Empty(RegistryClient.ParseTags("[1]"u8.ToArray(), "w"));
        var ex = Assert.Throws<KoException>(() => RegistryClient.ParseTags("{\"tags\":[\n\"a\","u8.ToArray(), "registry r: listing"));
        Assert.Equal(KoErrorCodes.PushFailed, ex.Code);
        Assert.StartsWith("registry r: listing: the answer is not valid JSON (at line 2", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://reg.example/v2/a/blobs/x", "http://reg.example/v2/a/blobs/x", "from HTTPS down to plain HTTP")]
    [InlineData("https://reg.example/v2/a/blobs/x", "http://storage.example/x", "from HTTPS down to plain HTTP")]
    [InlineData("http://reg.example/v2/a/blobs/x", "file:///etc/passwd", "'file'")]
    [InlineData("http://reg.example/v2/a/blobs/x", "data:text/plain,x", "'data'")]
    public async Task A_redirect_to_plain_HTTP_from_HTTPS_or_to_another_scheme_is_KO3008_and_not_followed(string from, string location, string named)
    {
        var followed = 0;
        using var handler = new RedirectHandler("reg.example", new RegistryOptions())
        {
            InnerHandler = new ScriptedHandler(request =>
            {
                if (request.RequestUri!.ToString() != from)
                {
                    followed++;
                    return new HttpResponseMessage(System.Net.HttpStatusCode.OK);
                }

                var redirect = new HttpResponseMessage(System.Net.HttpStatusCode.TemporaryRedirect);
                redirect.Headers.TryAddWithoutValidation("Location", location);
                return redirect;
            }),
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, from);

        var ex = await Assert.ThrowsAsync<KoException>(() => invoker.SendAsync(request, CancellationToken.None));
        Assert.Equal(KoErrorCodes.RedirectRefused, ex.Code);
        Assert.Contains("reg.example", ex.Message, StringComparison.Ordinal);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, followed);
    }

    [Fact]
    public async Task A_same_scheme_or_upgrading_redirect_is_followed()
    {
        using var handler = new RedirectHandler("reg.example", new RegistryOptions())
        {
            InnerHandler = new ScriptedHandler(request =>
            {
                if (request.RequestUri!.Host == "storage.example")
                {
                    return new HttpResponseMessage(System.Net.HttpStatusCode.OK);
                }

                var redirect = new HttpResponseMessage(System.Net.HttpStatusCode.TemporaryRedirect);
                redirect.Headers.TryAddWithoutValidation("Location", "https://storage.example/blob?sig=1");
                return redirect;
            }),
        };
        using var invoker = new HttpMessageInvoker(handler);
        using var request = new HttpRequestMessage(HttpMethod.Get, "http://reg.example/v2/a/blobs/x");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", "c2VjcmV0");
        using var response = await invoker.SendAsync(request, CancellationToken.None);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Null(request.Headers.Authorization);
    }

    [Theory]
    [InlineData("reg.example", false, "https://reg.example/v2/", true)]
    [InlineData("reg.example", false, "https://reg.example:443/v2/", true)]
    [InlineData("reg.example", false, "http://reg.example/v2/", false)]
    [InlineData("reg.example", false, "https://reg.example:8443/v2/", false)]
    [InlineData("reg.example", false, "https://storage.reg.example/v2/", false)]
    [InlineData("127.0.0.1:5000", false, "http://127.0.0.1:5000/v2/", true)]
    [InlineData("127.0.0.1:5000", false, "https://127.0.0.1:5000/v2/", true)]
    [InlineData("127.0.0.1:5000", false, "http://127.0.0.1:5001/v2/", false)]
    [InlineData("127.0.0.1:5000", false, "http://localhost:5000/v2/", false)]
    [InlineData("reg.example:5000", true, "http://reg.example:5000/v2/", true)]
    public void Credentials_belong_to_the_registrys_own_origin_only(string host, bool insecure, string url, bool registry)
    {
        using var auth = new AuthHandler(host, new RegistryOptions { Insecure = insecure });
        Assert.Equal(registry, auth.IsRegistry(new Uri(url)));
    }

    [Theory]
    [InlineData("https://reg.example/v2/", "http://auth.example/token", "auth.example")]
    [InlineData("https://reg.example/v2/", "https://auth.example/token", null)]
    [InlineData("http://127.0.0.1:5000/v2/", "http://127.0.0.1:5001/token", null)]
    [InlineData("https://reg.example/v2/", "file://\u202a/////////////etc/passwd", null)]
    public void A_plain_HTTP_token_realm_of_an_HTTPS_registry_is_a_downgrade(string registry, string realm, string? downgrade) =>
        Assert.Equal(downgrade, AuthHandler.Downgrade(new Uri(registry), realm));

    private sealed class ScriptedHandler(Func<HttpRequestMessage, HttpResponseMessage> answer) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = answer(request);
            response.RequestMessage = request;
            return Task.FromResult(response);
        }
    }
}
