using Ko.Engine.Oci;
using Ko.Engine.Publishing;
using Ko.Engine.Registry;

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
    public void OnlyLoopbackHostsArePlainHttp(string host, bool loopback)
    {
        Assert.Equal(loopback, RegistryClient.IsLoopback(host));
        using var client = new RegistryClient(host, new RegistryOptions());
        Assert.Equal(loopback ? "http" : "https", client.BaseAddress.Scheme);
    }

    [Theory]
    [InlineData("http://r:5000/v2/a/blobs/uploads/u1", "http://r:5000/v2/a/blobs/uploads/u1?digest=sha256%3A")]
    [InlineData("http://r:5000/v2/a/blobs/uploads/u1?_state=abc%3D", "http://r:5000/v2/a/blobs/uploads/u1?_state=abc%3D&digest=sha256%3A")]
    public void TheDigestIsAppendedToTheUploadLocationsQuery(string location, string expectedPrefix)
    {
        var uri = RegistryClient.AppendDigest(new Uri(location), Empty);
        Assert.Equal(expectedPrefix + Empty.Hex, uri.AbsoluteUri);
    }

    [Fact]
    public void RegistryErrorsAreDescribedByTheirMessages()
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
    public void ImageNamesSplitIntoRegistryAndRepository(string name, string host, string repository)
    {
        Assert.Equal((host, repository), RegistryPublisher.ParseName(name));
    }

    [Theory]
    [InlineData("registry.example:5000")]
    [InlineData("registry.example:5000/Team/Hello")]
    public void NamesWithoutARepositoryOrWithBadCharactersAreRefused(string name)
    {
        var ex = Assert.Throws<KoException>(() => RegistryPublisher.ParseName(name));
        Assert.Equal(KoErrorCodes.InvalidOption, ex.Code);
    }

    [Theory]
    [InlineData("</v2/a/tags/list?last=x&n=1>; rel=\"next\"", "http://r:5000/v2/a/tags/list?last=x&n=1")]
    [InlineData("<http://other:1/v2/a/tags/list?n=2>; rel=\"next\"", "http://other:1/v2/a/tags/list?n=2")]
    [InlineData("</v2/a/tags/list?last=x>; rel=\"prev\"", null)]
    public void TagListPagesFollowTheNextLink(string link, string? expected)
    {
        using var response = new HttpResponseMessage(System.Net.HttpStatusCode.OK);
        response.Headers.TryAddWithoutValidation("Link", link);
        Assert.Equal(expected, RegistryClient.NextPage(response, new Uri("http://r:5000/v2/a/tags/list"))?.ToString());
    }
}
