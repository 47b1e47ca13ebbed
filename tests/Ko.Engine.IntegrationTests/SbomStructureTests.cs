using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// Structure checks written from the specifications (no schema is fetched): the SPDX 2.3 JSON required fields and
/// value sets (spec clauses 6 document creation, 7 package, 11 relationships, 12 annotations) and the CycloneDX 1.6
/// JSON schema's required properties, enumerations and patterns.
/// </summary>
public static partial class SbomStructure
{
    private static readonly HashSet<string> SpdxRelationshipTypes =
    [
        "DESCRIBES", "DESCRIBED_BY", "CONTAINS", "CONTAINED_BY", "DEPENDS_ON", "DEPENDENCY_OF", "DEPENDENCY_MANIFEST_OF",
        "BUILD_DEPENDENCY_OF", "DEV_DEPENDENCY_OF", "OPTIONAL_DEPENDENCY_OF", "PROVIDED_DEPENDENCY_OF", "TEST_DEPENDENCY_OF",
        "RUNTIME_DEPENDENCY_OF", "EXAMPLE_OF", "GENERATES", "GENERATED_FROM", "ANCESTOR_OF", "DESCENDANT_OF", "VARIANT_OF",
        "DISTRIBUTION_ARTIFACT", "PATCH_FOR", "PATCH_APPLIED", "COPY_OF", "FILE_ADDED", "FILE_DELETED", "FILE_MODIFIED",
        "EXPANDED_FROM_ARCHIVE", "DYNAMIC_LINK", "STATIC_LINK", "DATA_FILE_OF", "TEST_CASE_OF", "BUILD_TOOL_OF",
        "DEV_TOOL_OF", "TEST_OF", "TEST_TOOL_OF", "DOCUMENTATION_OF", "OPTIONAL_COMPONENT_OF", "METAFILE_OF", "PACKAGE_OF",
        "AMENDS", "PREREQUISITE_FOR", "HAS_PREREQUISITE", "REQUIREMENT_DESCRIPTION_FOR", "SPECIFICATION_FOR", "OTHER",
    ];

    private static readonly HashSet<string> SpdxChecksumAlgorithms =
        ["SHA1", "SHA224", "SHA256", "SHA384", "SHA512", "MD2", "MD4", "MD5", "MD6", "SHA3-256", "SHA3-384", "SHA3-512", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3", "ADLER32"];

    private static readonly HashSet<string> SpdxPurposes =
        ["APPLICATION", "FRAMEWORK", "LIBRARY", "CONTAINER", "OPERATING-SYSTEM", "DEVICE", "FIRMWARE", "SOURCE", "ARCHIVE", "FILE", "INSTALL", "OTHER"];

    private static readonly HashSet<string> CdxComponentTypes =
        ["application", "framework", "library", "container", "platform", "operating-system", "device", "device-driver", "firmware", "file", "machine-learning-model", "data", "cryptographic-asset"];

    private static readonly HashSet<string> CdxHashAlgorithms =
        ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512", "SHA3-256", "SHA3-384", "SHA3-512", "BLAKE2b-256", "BLAKE2b-384", "BLAKE2b-512", "BLAKE3"];

    [GeneratedRegex("^SPDXRef-[a-zA-Z0-9.-]+$")]
    private static partial Regex SpdxIdPattern();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    private static partial Regex SpdxDatePattern();

    [GeneratedRegex("^urn:uuid:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[1-5][0-9a-fA-F]{3}-[89abAB][0-9a-fA-F]{3}-[0-9a-fA-F]{12}$")]
    private static partial Regex CdxSerialPattern();

    [GeneratedRegex("^([a-fA-F0-9]{32}|[a-fA-F0-9]{40}|[a-fA-F0-9]{64}|[a-fA-F0-9]{96}|[a-fA-F0-9]{128})$")]
    private static partial Regex CdxHashContentPattern();

    private static IEnumerable<JsonElement> Items(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : [];

    private static string Str(JsonElement e, string name)
    {
        Assert.True(e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString()!.Length > 0, $"required string '{name}' missing in {e}");
        return v.GetString()!;
    }

    public static void AssertSpdx23(JsonElement doc)
    {
        Assert.Equal("SPDX-2.3", Str(doc, "spdxVersion"));
        Assert.Equal("CC0-1.0", Str(doc, "dataLicense"));
        Assert.Equal("SPDXRef-DOCUMENT", Str(doc, "SPDXID"));
        Str(doc, "name");
        Assert.True(Uri.TryCreate(Str(doc, "documentNamespace"), UriKind.Absolute, out var ns) && !ns.ToString().Contains('#'), "documentNamespace must be an absolute URI without '#'");
        var creation = doc.GetProperty("creationInfo");
        Assert.Matches(SpdxDatePattern(), Str(creation, "created"));
        var creators = creation.GetProperty("creators").EnumerateArray().Select(c => c.GetString()!).ToList();
        Assert.NotEmpty(creators);
        Assert.All(creators, c => Assert.Matches("^(Tool|Person|Organization): .+", c));

        var ids = new HashSet<string>(StringComparer.Ordinal) { "SPDXRef-DOCUMENT" };
        foreach (var p in doc.GetProperty("packages").EnumerateArray())
        {
            var id = Str(p, "SPDXID");
            Assert.Matches(SpdxIdPattern(), id);
            Assert.True(ids.Add(id), $"duplicate SPDXID {id}");
            Str(p, "name");
            Str(p, "downloadLocation");
            var analyzed = !p.TryGetProperty("filesAnalyzed", out var fa) || fa.GetBoolean();
            Assert.True(!analyzed || p.TryGetProperty("packageVerificationCode", out _), $"{id}: filesAnalyzed needs packageVerificationCode");
            if (p.TryGetProperty("checksums", out var checksums))
            {
                foreach (var c in checksums.EnumerateArray())
                {
                    Assert.Contains(Str(c, "algorithm"), SpdxChecksumAlgorithms);
                    Assert.Matches("^[0-9a-f]+$", Str(c, "checksumValue"));
                }
            }

            if (p.TryGetProperty("primaryPackagePurpose", out var purpose))
            {
                Assert.Contains(purpose.GetString()!, SpdxPurposes);
            }

            foreach (var r in Items(p, "externalRefs"))
            {
                Assert.Contains(Str(r, "referenceCategory"), new[] { "SECURITY", "PACKAGE-MANAGER", "PACKAGE_MANAGER", "PERSISTENT-ID", "PERSISTENT_ID", "OTHER" });
                if (Str(r, "referenceType") == "purl")
                {
                    Assert.StartsWith("pkg:", Str(r, "referenceLocator"));
                    Assert.DoesNotContain(' ', r.GetProperty("referenceLocator").GetString()!);
                }
            }

            foreach (var a in Items(p, "annotations"))
            {
                Assert.Matches(SpdxDatePattern(), Str(a, "annotationDate"));
                Assert.Contains(Str(a, "annotationType"), new[] { "REVIEW", "OTHER" });
                Assert.Matches("^(Tool|Person|Organization): .+", Str(a, "annotator"));
                Str(a, "comment");
            }
        }

        foreach (var d in doc.GetProperty("documentDescribes").EnumerateArray())
        {
            Assert.Contains(d.GetString()!, ids);
        }

        foreach (var r in doc.GetProperty("relationships").EnumerateArray())
        {
            Assert.Contains(Str(r, "spdxElementId"), ids);
            Assert.Contains(Str(r, "relatedSpdxElement"), ids);
            Assert.Contains(Str(r, "relationshipType"), SpdxRelationshipTypes);
        }
    }

    public static void AssertCycloneDx16(JsonElement bom)
    {
        Assert.Equal("CycloneDX", Str(bom, "bomFormat"));
        Assert.Equal("1.6", Str(bom, "specVersion"));
        Assert.Matches(CdxSerialPattern(), Str(bom, "serialNumber"));
        Assert.True(bom.GetProperty("version").GetInt32() >= 1);
        var refs = new HashSet<string>(StringComparer.Ordinal);
        void Component(JsonElement c)
        {
            Assert.Contains(Str(c, "type"), CdxComponentTypes);
            Str(c, "name");
            if (c.TryGetProperty("bom-ref", out var r))
            {
                Assert.True(refs.Add(r.GetString()!), $"duplicate bom-ref {r}");
            }

            foreach (var h in Items(c, "hashes"))
            {
                Assert.Contains(Str(h, "alg"), CdxHashAlgorithms);
                Assert.Matches(CdxHashContentPattern(), Str(h, "content"));
            }

            foreach (var p in Items(c, "properties"))
            {
                Str(p, "name");
            }

            if (c.TryGetProperty("pedigree", out var pedigree))
            {
                foreach (var kind in new[] { "ancestors", "descendants", "variants", "commits" })
                {
                    foreach (var x in kind == "commits" ? [] : Items(pedigree, kind))
                    {
                        Component(x);
                    }
                }
            }
        }

        var metadata = bom.GetProperty("metadata");
        Assert.True(DateTimeOffset.TryParse(Str(metadata, "timestamp"), out _));
        Component(metadata.GetProperty("component"));
        foreach (var c in bom.GetProperty("components").EnumerateArray())
        {
            Component(c);
        }

        foreach (var d in bom.GetProperty("dependencies").EnumerateArray())
        {
            Assert.Contains(Str(d, "ref"), refs);
            foreach (var on in Items(d, "dependsOn"))
            {
                Assert.Contains(on.GetString()!, refs);
            }
        }
    }
}
