using Ko.Engine.Oci;
using Ko.Engine.Registry;
using Ko.Engine.Sinks;
using Ko.Engine.Sources;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ko.Engine.IntegrationTests;

/// <summary>Builds examples/hello for two platforms once, and a registry, for the source × sink matrix.</summary>
public sealed class MatrixFixture : IAsyncLifetime
{
    private readonly TempDir _dir = new("ko-matrix");

    public RegistryServer Registry { get; private set; } = null!;

    public string Layout => _dir.Combine("built");

    public TempDir Dir => _dir;

    public async Task InitializeAsync()
    {
        Registry = await RegistryServer.StartAsync();
        var src = Repo.CopyHello(_dir.Combine("hello"));
        var run = await Repo.KoAsync(Repo.Environment(_dir.Combine("cache")), "build", ".", "-C", src, "--push=false", "--platform", "linux/amd64,linux/arm64", "--sbom=none", "--oci-layout-path", Layout);
        Assert.True(run.ExitCode == 0, run.ToString());
    }

    public async Task DisposeAsync()
    {
        await Registry.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// Every source × every sink: the two-platform index read from a source and written to a sink reads back from that
/// sink with the same digest (a docker archive holds one platform: the build machine's image, with its digest).
/// The daemon sink is left out: podman stores images in its own format and gives no digest back.
/// </summary>
public sealed class SourceSinkMatrixTests(MatrixFixture fixture) : IClassFixture<MatrixFixture>
{
    public static TheoryData<string, string> Pairs()
    {
        var data = new TheoryData<string, string>();
        foreach (var source in new[] { "oci", "oci-archive", "docker-archive", "registry" })
        {
            foreach (var sink in new[] { "oci", "oci-archive", "docker-archive", "registry" })
            {
                data.Add(source, sink);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Pairs))]
    public async Task An_artifact_read_from_a_source_and_written_to_a_sink_reads_back_with_the_same_digest(string sourceKind, string sinkKind)
    {
        using var ct = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var id = $"{sourceKind}-to-{sinkKind}";
        var sourceSpec = await PrepareSourceAsync(sourceKind, id, ct.Token);
        await using var source = await OpenAsync(sourceSpec, ct.Token);
        var artifact = await source.ReadAsync(ct.Token);
        var expected = sinkKind == "docker-archive" ? DockerArchiveSink.HostImage(Named(artifact)).Digest : artifact.Digest;

        var target = await WriteAsync(sinkKind, $"{id}-out", artifact, ct.Token);
        await using var back = await OpenAsync(target, ct.Token);
        var read = await back.ReadAsync(ct.Token);
        Assert.Equal(expected, read.Digest);
        Assert.Equal(read.Images.Count, sinkKind == "docker-archive" ? 1 : artifact.Images.Count);
    }

    private static NamedArtifact Named(IArtifact artifact) => new("example.com/hello", "ko.local/hello", artifact);

    private RegistryOptions Options => new() { Logger = NullLogger.Instance };

    private Task<IImageSource> OpenAsync(string spec, CancellationToken ct) =>
        ImageSources.OpenAsync(spec, fixture.Dir.Path, () => Options, null, null, ct);

    // The built layout is the first source; the others are made from it through a sink.
    private async Task<string> PrepareSourceAsync(string kind, string id, CancellationToken ct)
    {
        if (kind == "oci")
        {
            return "oci:" + fixture.Layout;
        }

        await using var built = await OpenAsync("oci:" + fixture.Layout, ct);
        return await WriteAsync(kind, $"{id}-src", await built.ReadAsync(ct), ct);
    }

    // Writes through the sink and returns the spec that reads it back.
    private async Task<string> WriteAsync(string kind, string id, IArtifact artifact, CancellationToken ct)
    {
        var path = fixture.Dir.Combine(id);
        var name = kind == "registry" ? $"{fixture.Registry.Host}/matrix/{id}" : "ko.local/hello";
        using IImageSink sink = kind switch
        {
            "oci" => new OciLayoutSink(path, false, NullLogger.Instance, null),
            "oci-archive" => new OciArchiveSink(path, false, NullLogger.Instance, null),
            "docker-archive" => new DockerArchiveSink(path, NullLogger.Instance, null),
            "registry" => new RegistrySink(Options, Sbom.SbomAttachment.Referrers),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        await sink.WriteAsync(new NamedArtifact("example.com/hello", name, artifact), ["latest"], ct);
        await sink.CompleteAsync(ct);
        return kind == "registry" ? $"{name}:latest" : $"{kind}:{path}";
    }
}
