using CsCheck;
using Ko.Engine.Manifests;
using Ko.Engine.Oci;
using Ko.Engine.References;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Auth;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>Fuzz/property tests of the small text parsers: image references, platforms, label selectors, WWW-Authenticate, Link.</summary>
[Trait("Category", "Fuzz")]
public sealed class ReferenceFuzzTests
{
    private static readonly string[] ReferenceSeeds =
    [
        "alpine", "alpine:3.20", "library/alpine@sha256:" + new string('a', 64), "ghcr.io/team/app:v1",
        "localhost:5000/a/b/c:latest", "[::1]:5000/x", "registry.example/team/app:v1@sha256:" + new string('0', 64),
        "index.docker.io/foo", "a__b--c.d/e", "user:secret@registry.example/team/app", "https://user:secret@host:5000/r",
    ];

    private static readonly Gen<string> Component = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789"].Array[1, 8].Select(a => new string(a));

    private static readonly Gen<string> Separator = Gen.OneOf(".", "_", "__", "-", "---");

    // A valid-looking reference built from the grammar, so the round trip is exercised often.
    private static readonly Gen<string> WellFormedReference =
        Gen.Select(
            Gen.OneOf("", "docker.io/", "ghcr.io/", "localhost:5000/", "registry.example:443/", "[::1]:5000/", "a-b.c/"),
            Gen.Select(Component, Separator, Component, (a, s, b) => a + s + b).Array[1, 4].Select(parts => string.Join('/', parts)),
            Gen.OneOf(Gen.Const(""), Gen.Char["abcXYZ019_.-"].Array[1, 20].Select(a => ":" + (char.IsAsciiLetterOrDigit(a[0]) ? "" : "v") + new string(a))),
            Gen.OneOf(Gen.Const(""), Gen.Char["0123456789abcdef"].Array[64].Select(a => "@sha256:" + new string(a))),
            (registry, path, tag, digest) => registry + path + tag + digest);

    [Fact]
    public Task Image_reference_parse_never_throws_and_round_trips() =>
        CheckAsync(Gen.Frequency((1, WellFormedReference), (1, Hostile(120, ReferenceSeeds))), text =>
        {
            if (ImageReference.TryParse(text, out var reference, out var error))
            {
                var again = ImageReference.Parse(reference.ToString());
                Assert.Equal(reference, again);
                Assert.Equal(reference.ToString(), again.ToString());
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
                OnlyKoException(() => ImageReference.Parse(text));
                Assert.Throws<KoException>(() => ImageReference.Parse(text));
            }
        }, 3000);

    [Fact]
    public Task Image_reference_well_formed_ones_parse() =>
        CheckAsync(WellFormedReference.Where(r => r.Length < 200), text =>
        {
            Assert.True(ImageReference.TryParse(text, out _, out var error), error);
        }, 1000);

    // The secret is any run of printable characters docker would accept in a password; whatever the rest of the text, it never comes back.
    [Fact]
    public Task Image_reference_errors_never_echo_a_password() =>
        CheckAsync(
            Gen.Select(
                Gen.OneOf("", "https://", "http://", "oci://"),
                Component,
                Gen.Char["ABCxyz0123456789!$%&*+-._~"].Array[6, 20].Select(a => "S3cr" + new string(a)),
                Gen.OneOf(WellFormedReference, Mutated(ReferenceSeeds)),
                (scheme, user, password, rest) => (Text: scheme + user + ":" + password + "@" + rest, Password: password)),
            c =>
            {
                if (ImageReference.TryParse(c.Text, out var reference, out var error))
                {
                    // Only a form docker itself reads as NAME:TAG@DIGEST parses; then the "password" is a tag, shown as such.
                    Assert.Equal(reference.Tag, c.Password);
                    return;
                }

                Assert.DoesNotContain(c.Password, error, StringComparison.Ordinal);
                var ex = Assert.Throws<KoException>(() => ImageReference.Parse(c.Text));
                Assert.DoesNotContain(c.Password, ex.Message, StringComparison.Ordinal);
                Assert.DoesNotContain(c.Password, ex.ToString(), StringComparison.Ordinal);
            },
            1000,
            c => Show(c.Text));

    [Fact]
    public Task Platform_parse_only_throws_KoException_and_round_trips() =>
        CheckAsync(
            Gen.Frequency(
                (1, Gen.Select(
                    Gen.OneOf("linux", "windows", "Linux", "darwin", "", "plan9"),
                    Gen.OneOf("amd64", "arm", "arm64", "ARM64", "riscv64", "x86", ""),
                    Gen.OneOf("", "/v7", "/v8", "/v3", "/", "/v5/x", ":10.0.17763", "/v7:1.2"),
                    (os, arch, rest) => os + "/" + arch + rest)),
                (1, Hostile(40, "linux/amd64", "linux/arm/v7", "linux/arm64/v8", "windows/amd64:10.0.17763.1", " linux / amd64 "))),
            text => OnlyKoException(() =>
            {
                var platform = Platform.Parse(text);
                Assert.Equal(platform, Platform.Parse(platform.ToString()));
            }),
            2000);

    [Fact]
    public Task Label_selector_parse_only_throws_KoException() =>
        CheckAsync(
            Hostile(60, "app=web", "app==web,tier!=db", "env in (a,b),!legacy", "x notin (y)", "a,b,c", "k8s.io/name=x", "a in ((b))", ""),
            text => OnlyKoException(() =>
            {
                var selector = LabelSelector.Parse(text);
                Assert.All(selector.Requirements, r => Assert.False(string.IsNullOrEmpty(r.Key)));
                selector.Matches(new Dictionary<string, string> { ["app"] = "web", [text] = text });
            }),
            3000);

    private static readonly Gen<string> Token = Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~/:"].Array[1, 12].Select(a => new string(a));

    private static readonly Gen<string> Quotable = Gen.Char.Array[0, 20].Select(a => new string(a.Where(c => c is >= ' ' and not '\u007f').ToArray()));

    [Fact]
    public Task WWW_Authenticate_parse_never_throws_and_reads_what_was_written() =>
        CheckAsync(
            Gen.Select(
                Gen.OneOf("Basic", "Bearer", "bearer", "Digest", "Custom-1"),
                Gen.Select(Token.Where(t => t.All(char.IsAsciiLetterOrDigit)), Quotable, (n, v) => (Name: n, Value: v)).Array[0, 5],
                (scheme, parameters) => (Scheme: scheme, Parameters: parameters.DistinctBy(p => p.Name.ToLowerInvariant()).ToArray())),
            c =>
            {
                var header = c.Scheme + " " + string.Join(", ", c.Parameters.Select(p => p.Name + "=\"" + p.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""));
                var challenge = Assert.Single(AuthChallenge.Parse(header));
                Assert.Equal(c.Scheme, challenge.Scheme);
                Assert.Equal(c.Parameters.Length, challenge.Parameters.Count);
                foreach (var (name, value) in c.Parameters)
                {
                    Assert.Equal(value, challenge.Get(name));
                }
            },
            2000,
            c => Show(c.Scheme + " " + string.Join(",", c.Parameters.Select(p => p.Name + "=" + p.Value))));

    [Fact]
    public Task WWW_Authenticate_parse_of_anything_terminates_without_exception() =>
        CheckAsync(
            Hostile(200, "Bearer realm=\"https://auth.example/token\",service=\"reg\",scope=\"repository:a:pull\"", "Basic realm=\"x, y\"", "Bearer realm=https://a/t, Basic", "=,,\"\" ; Basic", "Bearer realm=\"unterminated"),
            text =>
            {
                foreach (var challenge in AuthChallenge.Parse(text))
                {
                    Assert.NotEmpty(challenge.Scheme);
                    Assert.DoesNotContain(challenge.Scheme, c => c is ' ' or ',' or '=' or '"');
                }
            },
            3000);

    [Fact]
    public Task Link_header_next_page_is_null_or_an_http_url() =>
        CheckAsync(
            Hostile(160, "</v2/a/tags/list?n=100&last=b>; rel=\"next\"", "<http://other:5000/v2/x?last=1>; rel=\"next\"", "<>; rel=\"next\"", "<http://[::1]:99999/x>; rel=\"next\"", "<file:///etc/passwd>; rel=\"next\"", "<//evil/x>; rel=\"next\", <a>; rel=prev"),
            text =>
            {
                var request = new Uri("https://registry.example:5000/v2/a/tags/list");
                var next = RegistryClient.NextPage([text], request);
                if (next is not null)
                {
                    Assert.True(next.IsAbsoluteUri);
                    Assert.Equal(request.Scheme, next.Scheme);
                }
            },
            3000);
}
