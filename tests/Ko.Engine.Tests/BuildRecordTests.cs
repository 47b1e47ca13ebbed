using System.Text;
using Ko.Cli;
using Ko.Engine.Oci;
using Ko.Engine.Records;

namespace Ko.Engine.Tests;

/// <summary>The build record: written per import path, read back as hostile input, and used by resolve instead of a build.</summary>
public sealed class BuildRecordTests : IDisposable
{
    private static readonly Digest IndexDigest = Digest.Parse("sha256:" + new string('a', 64));
    private static readonly Digest AmdDigest = Digest.Parse("sha256:" + new string('b', 64));
    private static readonly Digest ArmDigest = Digest.Parse("sha256:" + new string('c', 64));

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private static KoImageResult Hello(string importPath = "example.com/hello") => new(
        importPath,
        "registry.test/team/hello-5f1e",
        $"registry.test/team/hello-5f1e@{IndexDigest}",
        IndexDigest,
        MediaTypes.OciIndex,
        [Platform.Parse("linux/amd64"), Platform.Parse("linux/arm64")],
        ["1.2.3"])
    {
        PlatformImages = [new KoPlatformImage(Platform.Parse("linux/amd64"), AmdDigest), new KoPlatformImage(Platform.Parse("linux/arm64"), ArmDigest)],
        SbomReferences = [$"registry.test/team/hello-5f1e@sha256:{new string('d', 64)}"],
        Base = new KoBaseImage("embedded:static", null),
    };

    private static string Json(string images) => $$"""{ "schema": "{{BuildRecord.Schema}}", "images": [ {{images}} ] }""";

    private static string ImageJson(string? replace = null, string? with = null)
    {
        var json = $$"""
            { "importPath": "example.com/hello", "name": "registry.test/hello", "reference": "registry.test/hello@{{IndexDigest}}",
              "digest": "{{IndexDigest}}", "mediaType": "{{MediaTypes.OciIndex}}",
              "platforms": [ { "platform": "linux/amd64", "digest": "{{AmdDigest}}" } ], "tags": [ "latest" ], "sboms": [], "base": { "name": "embedded:static" } }
            """;
        return replace is null ? json : json.Replace(replace, with, StringComparison.Ordinal);
    }

    [Fact]
    public void A_record_read_back_holds_every_field_that_was_written()
    {
        var written = new BuildRecord([Hello()]).ToJson();

        var read = BuildRecord.Parse(written, "record.json");

        var image = Assert.Single(read.Images);
        var expected = Hello();
        Assert.Equal(expected.Reference, image.Reference);
        Assert.Equal(expected.Digest, image.Digest);
        Assert.Equal(expected.MediaType, image.MediaType);
        Assert.Equal(expected.Platforms, image.Platforms);
        Assert.Equal(expected.PlatformImages, image.PlatformImages);
        Assert.Equal(expected.Tags, image.Tags);
        Assert.Equal(expected.SbomReferences, image.SbomReferences);
        Assert.Equal(expected.Base, image.Base);
        Assert.True(read.TryGet("example.com/hello", out _));
        Assert.False(read.TryGet("example.com/other", out _));
    }

    [Fact]
    public void A_well_formed_record_with_unknown_fields_parses()
    {
        var record = BuildRecord.Parse(Encoding.UTF8.GetBytes(Json(ImageJson("\"tags\"", "\"signatures\": [1, 2], \"tags\""))), "record.json");

        Assert.Equal("registry.test/hello@" + IndexDigest, Assert.Single(record.Images).Reference);
    }

    [Theory]
    [InlineData("not json {", "is not JSON")]
    [InlineData("[1, 2]", "is a JSON array, not a build record object")]
    [InlineData("""{ "schema": "https://example.com/other", "images": [] }""", "has schema 'https://example.com/other'")]
    [InlineData("""{ "schema": "https://koaddins.dev/build-record/v1" }""", "images is missing")]
    [InlineData("""{ "schema": "https://koaddins.dev/build-record/v1", "images": {} }""", "images is a JSON object, not an array")]
    [InlineData("""{ "schema": "https://koaddins.dev/build-record/v1", "images": [ "x" ] }""", "images[0] is a JSON string, not an object")]
    [InlineData("""{ "schema": "https://koaddins.dev/build-record/v1", "images": [[[[[[[[[[1]]]]]]]]]] }""", "is not JSON")]
    public void A_record_that_is_not_one_is_KO4021_naming_what_is_wrong(string json, string expected)
    {
        var ex = Assert.Throws<KoException>(() => BuildRecord.Parse(Encoding.UTF8.GetBytes(json), "record.json"));

        Assert.Equal("KO4021", ex.Code);
        Assert.StartsWith("the build record record.json ", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"digest\": \"sha256:aaaa", "\"digest\": \"sha256:zz\", \"x\": \"", "images[0].digest 'sha256:zz' is not a digest")]
    [InlineData("\"mediaType\": \"", "\"mediaType\": 7, \"y\": \"", "images[0].mediaType is a JSON number, not a string")]
    [InlineData("\"reference\": \"registry.test/hello@", "\"reference\": \"registry.test/hello\\nkind: Secret@", "images[0].reference")]
    [InlineData("\"reference\": \"registry.test/hello@sha256:aaaa", "\"reference\": \"registry.test/hello@sha256:bbbb", "names sha256:bbbb")]
    [InlineData("\"platform\": \"linux/amd64\"", "\"platform\": \"plan9/z80\"", "images[0].platforms[0].platform")]
    [InlineData("\"tags\": [ \"latest\" ]", "\"tags\": [ 1 ]", "images[0].tags[0] is a JSON number, not a string")]
    [InlineData("\"base\": { \"name\": \"embedded:static\" }", "\"base\": \"embedded:static\"", "images[0].base is a JSON string, not an object")]
    [InlineData("\"importPath\": \"example.com/hello\"", "\"importPath\": \"\"", "images[0].importPath '' is not an import path")]
    public void An_image_entry_with_a_bad_field_is_KO4021_naming_the_field(string replace, string with, string expected)
    {
        var json = Json(ImageJson(replace, with));
        Assert.Contains(with, json, StringComparison.Ordinal);

        var ex = Assert.Throws<KoException>(() => BuildRecord.Parse(Encoding.UTF8.GetBytes(json), "record.json"));

        Assert.Equal("KO4021", ex.Code);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void An_import_path_recorded_twice_is_KO4021()
    {
        var ex = Assert.Throws<KoException>(() => BuildRecord.Parse(Encoding.UTF8.GetBytes(Json(ImageJson() + "," + ImageJson())), "record.json"));

        Assert.Equal("KO4021", ex.Code);
        Assert.Contains("example.com/hello is recorded twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WriteAsync_then_ReadAsync_gives_the_same_record()
    {
        var path = _dir.Combine("out", "record.json");

        await BuildRecord.WriteAsync(path, [Hello(), Hello("example.com/hello/cmd/other")]);
        var read = await BuildRecord.ReadAsync(path);

        Assert.Equal(["example.com/hello", "example.com/hello/cmd/other"], read.Images.Select(i => i.ImportPath));
        Assert.Equal(path, read.Source);
        Assert.Equal(["record.json"], Directory.GetFiles(_dir.Combine("out")).Select(Path.GetFileName));
    }

    [Fact]
    public async Task ReadAsync_of_a_missing_oversized_or_special_file_is_KO4021_without_reading_it_all()
    {
        var big = _dir.Combine("big.json");
        await using (var f = File.Create(big))
        {
            f.SetLength(BuildRecord.MaxFileBytes + 1);
        }

        foreach (var (path, expected) in new[] { (_dir.Combine("missing.json"), "missing.json"), (big, "more than"), ("/dev/zero", "not a regular file") })
        {
            var ex = await Assert.ThrowsAsync<KoException>(() => BuildRecord.ReadAsync(path));
            Assert.Equal("KO4021", ex.Code);
            Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Resolve_with_a_build_record_replaces_references_from_it_and_runs_no_go()
    {
        var record = _dir.Combine("record.json");
        await BuildRecord.WriteAsync(record, [Hello()]);
        var yaml = _dir.WriteFile("deploy.yaml", "# kept\nspec:\n  image: ko://example.com/hello\n");
        var output = new StringWriter();
        var error = new StringWriter();

        // No go on PATH: a build would fail with KO2001.
        var code = await KoCli.RunAsync(["resolve", "-f", yaml, "--build-record", record], output, error, NoGo(), CancellationToken.None);

        Assert.True(code == 0, error.ToString());
        Assert.Equal($"# kept\nspec:\n  image: {Hello().Reference}\n---\n", output.ToString()); // ko ends each resolved file with ---
    }

    [Fact]
    public async Task Resolve_with_a_build_record_that_lacks_an_import_path_is_KO4020_naming_file_and_line()
    {
        var record = _dir.Combine("record.json");
        await BuildRecord.WriteAsync(record, [Hello()]);
        var yaml = _dir.WriteFile("deploy.yaml", "spec:\n  a: ko://example.com/hello\n  b: ko://example.com/hello/cmd/missing\n");
        var output = new StringWriter();
        var error = new StringWriter();

        var code = await KoCli.RunAsync(["resolve", "-f", yaml, "--build-record", record], output, error, NoGo(), CancellationToken.None);

        Assert.Equal(1, code);
        Assert.StartsWith($"Error: KO4020: {yaml}:3:6: ko://example.com/hello/cmd/missing is not in the build record {record} (it holds example.com/hello).", error.ToString(), StringComparison.Ordinal);
        Assert.Equal(string.Empty, output.ToString());
    }

    [Fact]
    public async Task Resolve_with_a_broken_build_record_is_one_KO4021_line()
    {
        var record = _dir.WriteFile("record.json", "{\"schema\": 1}");
        var yaml = _dir.WriteFile("deploy.yaml", "image: ko://example.com/hello\n");
        var error = new StringWriter();

        var code = await KoCli.RunAsync(["resolve", "-f", yaml, "--build-record", record], new StringWriter(), error, NoGo(), CancellationToken.None);

        Assert.Equal(1, code);
        Assert.StartsWith($"Error: KO4021: the build record {record} schema is a JSON number, not a string.", error.ToString(), StringComparison.Ordinal);
        Assert.Single(error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    private Dictionary<string, string?> NoGo() => new(StringComparer.Ordinal)
    {
        ["PATH"] = _dir.Combine("empty-bin"),
        ["HOME"] = _dir.Path,
        ["KOCACHE"] = _dir.Combine("cache"),
        ["KO_DOCKER_REPO"] = "registry.test/team",
        ["NO_COLOR"] = "1",
    };
}
