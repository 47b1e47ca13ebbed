using System.Text;
using Ko.Engine.Oci;
using Ko.Engine.Sbom;

namespace Ko.Engine.Tests;

public sealed class SbomReadBackTests
{
    private static readonly Descriptor Subject = new(MediaTypes.OciManifest, Digest.Sha256("image"u8), 5);

    [Theory]
    [InlineData(SbomFormat.Spdx)]
    [InlineData(SbomFormat.CycloneDx)]
    public void An_sbom_artifact_read_back_from_its_manifest_and_document_has_the_same_digest(SbomFormat format)
    {
        var written = new SbomArtifact(format, Subject, null, "{\"a\":1}"u8.ToArray(), "2024-01-02T03:04:05Z", "x.json");
        var read = SbomArtifact.TryRead(written.ManifestBytes, written.Document, "layout");
        Assert.NotNull(read);
        Assert.Equal(written.Digest, read.Digest);
        Assert.Equal(format, read.Format);
        Assert.Equal(Subject.Digest, read.Subject.Digest);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":\"a/b\",\"digest\":\"sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\",\"size\":0},\"layers\":[]}")]
    public void A_manifest_that_is_not_an_sbom_artifact_reads_as_none(string manifest)
    {
        Assert.Null(SbomArtifact.TryRead(Encoding.UTF8.GetBytes(manifest), "{}"u8.ToArray(), "layout"));
    }

    [Fact]
    public void An_sbom_manifest_whose_document_was_changed_reads_as_none_instead_of_pushing_other_bytes()
    {
        var written = new SbomArtifact(SbomFormat.Spdx, Subject, null, "{\"a\":1}"u8.ToArray(), "2024-01-02T03:04:05Z", "x.json");
        Assert.Null(SbomArtifact.TryRead(written.ManifestBytes, "{\"a\":2}"u8.ToArray(), "layout"));
    }

    [Fact]
    public void An_sbom_manifest_with_extra_annotations_reads_as_none_because_it_would_not_come_out_the_same()
    {
        var written = new SbomArtifact(SbomFormat.Spdx, Subject, null, "{}"u8.ToArray(), "2024-01-02T03:04:05Z", "x.json");
        var text = Encoding.UTF8.GetString(written.ManifestBytes).Replace("\"annotations\":{", "\"annotations\":{\"x\":\"y\",", StringComparison.Ordinal);
        Assert.Null(SbomArtifact.TryRead(Encoding.UTF8.GetBytes(text), written.Document, "layout"));
    }
}
