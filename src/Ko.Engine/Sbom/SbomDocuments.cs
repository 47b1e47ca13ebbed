using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Ko.Engine.Go;
using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Sbom;

/// <summary>What an SBOM says about one platform image.</summary>
internal sealed record SbomImageFacts(string Name, Digest Digest, Platform Platform, string Created, string? BaseName, string? BaseDigest, GoBuildInfo BuildInfo)
{
    public static SbomImageFacts Of(string name, IImage image, GoBuildInfo info)
    {
        var annotations = image.Manifest.Annotations;
        return new SbomImageFacts(name, image.Digest, image.Platform, CreatedOf(image), annotations?.GetValueOrDefault(AnnotationKeys.BaseName), annotations?.GetValueOrDefault(AnnotationKeys.BaseDigest), info);
    }

    /// <summary>The config's <c>created</c> as UTC seconds (<c>yyyy-MM-ddTHH:mm:ssZ</c>), the epoch when there is none.</summary>
    public static string CreatedOf(IImage image)
    {
        using var doc = JsonDocument.Parse(image.ConfigBytes);
        if (doc.RootElement.TryGetProperty("created", out var c) && c.ValueKind == JsonValueKind.String
            && DateTimeOffset.TryParse(c.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var created))
        {
            return Format(created);
        }

        return Format(DateTimeOffset.UnixEpoch);
    }

    public static string Format(DateTimeOffset time) => time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

/// <summary>What an SBOM says about an index: its platform images.</summary>
internal sealed record SbomIndexFacts(string Name, Digest Digest, string Created, IReadOnlyList<(Digest Digest, Platform Platform)> Children);

/// <summary>
/// Writes SPDX 2.3 and CycloneDX 1.6 JSON documents. Deterministic: the same facts give the same bytes (times come
/// from the image's <c>created</c>, the SPDX namespace and the CycloneDX serial number from its digest).
/// </summary>
internal static class SbomDocuments
{
    public const string SpdxMediaType = "application/spdx+json";
    public const string CycloneDxMediaType = "application/vnd.cyclonedx+json";
    public const string Tool = "ko (KoAddins)";

    private static readonly JsonWriterOptions Options = new() { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string MediaType(SbomFormat format) => format == SbomFormat.CycloneDx ? CycloneDxMediaType : SpdxMediaType;

    public static string Extension(SbomFormat format) => format == SbomFormat.CycloneDx ? "cyclonedx" : "spdx";

    public static byte[] ForImage(SbomFormat format, SbomImageFacts facts) =>
        format == SbomFormat.CycloneDx ? CycloneDxImage(facts) : SpdxImage(facts);

    public static byte[] ForIndex(SbomFormat format, SbomIndexFacts facts) =>
        format == SbomFormat.CycloneDx ? CycloneDxIndex(facts) : SpdxIndex(facts);

    /// <summary><c>pkg:oci/NAME@sha256%3AHEX?arch=…&amp;os=…&amp;repository_url=REPO</c>, as the purl spec writes OCI images.</summary>
    public static string OciPurl(string repository, Digest digest, Platform? platform = null)
    {
        var name = repository.TrimEnd('/').Split('/')[^1].ToLowerInvariant();
        var query = new List<string>();
        if (platform is not null)
        {
            query.Add("arch=" + Uri.EscapeDataString(platform.Architecture));
            query.Add("os=" + Uri.EscapeDataString(platform.Os));
            if (platform.Variant is not null)
            {
                query.Add("variant=" + Uri.EscapeDataString(platform.Variant));
            }
        }

        query.Add("repository_url=" + Uri.EscapeDataString(repository));
        return $"pkg:oci/{Uri.EscapeDataString(name)}@{Uri.EscapeDataString(digest.ToString())}?{string.Join('&', query)}";
    }

    /// <summary><c>pkg:golang/PATH@VERSION</c> (no version for <c>(devel)</c>).</summary>
    public static string GoPurl(string path, string? version)
    {
        var segments = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        return version is null or "" or "(devel)" ? $"pkg:golang/{segments}" : $"pkg:golang/{segments}@{Uri.EscapeDataString(version)}";
    }

    /// <summary>The Go base image reference without tag, with digest when known.</summary>
    private static (string Repository, string Display) BaseReference(string baseName)
    {
        var at = baseName.IndexOf('@', StringComparison.Ordinal);
        var withoutDigest = at < 0 ? baseName : baseName[..at];
        var lastSlash = withoutDigest.LastIndexOf('/');
        var colon = withoutDigest.LastIndexOf(':');
        var repository = colon > lastSlash ? withoutDigest[..colon] : withoutDigest;
        return (repository, baseName);
    }

    private static string GoVersionOf(GoModule module) => module.Version;

    private static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            write(writer);
        }

        buffer.Write("\n"u8);
        return buffer.WrittenSpan.ToArray();
    }

    // ---------------------------------------------------------------- SPDX 2.3

    private static string SpdxId(string kind, string text, HashSet<string> used)
    {
        var sb = new StringBuilder("SPDXRef-").Append(kind).Append('-');
        foreach (var ch in text)
        {
            sb.Append(char.IsAsciiLetterOrDigit(ch) || ch is '.' or '-' ? ch : '-');
        }

        var id = sb.ToString();
        var unique = id;
        for (var i = 2; !used.Add(unique); i++)
        {
            unique = $"{id}-{i}";
        }

        return unique;
    }

    private static void SpdxHeader(Utf8JsonWriter w, string name, Digest digest, string created, string describes)
    {
        w.WriteString("spdxVersion", "SPDX-2.3");
        w.WriteString("dataLicense", "CC0-1.0");
        w.WriteString("SPDXID", "SPDXRef-DOCUMENT");
        w.WriteString("name", $"{name}@{digest}");
        w.WriteString("documentNamespace", $"https://ko.build/spdx/{Uri.EscapeDataString(name)}/{digest.Algorithm}-{digest.Hex}");
        w.WriteStartObject("creationInfo");
        w.WriteString("created", created);
        w.WriteStartArray("creators");
        w.WriteStringValue("Tool: " + Tool);
        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("documentDescribes");
        w.WriteStringValue(describes);
        w.WriteEndArray();
    }

    private static void SpdxPackage(
        Utf8JsonWriter w,
        string id,
        string name,
        string? version,
        string purl,
        string purpose,
        string? sha256Hex,
        string? comment = null,
        string? downloadLocation = null,
        IEnumerable<(string Annotator, string Comment, string Date)>? annotations = null)
    {
        w.WriteStartObject();
        w.WriteString("name", name);
        w.WriteString("SPDXID", id);
        if (version is not null)
        {
            w.WriteString("versionInfo", version);
        }

        w.WriteString("supplier", "NOASSERTION");
        w.WriteString("downloadLocation", downloadLocation ?? "NOASSERTION");
        w.WriteBoolean("filesAnalyzed", false);
        if (sha256Hex is not null)
        {
            w.WriteStartArray("checksums");
            w.WriteStartObject();
            w.WriteString("algorithm", "SHA256");
            w.WriteString("checksumValue", sha256Hex);
            w.WriteEndObject();
            w.WriteEndArray();
        }

        w.WriteString("licenseConcluded", "NOASSERTION");
        w.WriteString("licenseDeclared", "NOASSERTION");
        w.WriteString("copyrightText", "NOASSERTION");
        w.WriteString("primaryPackagePurpose", purpose);
        if (comment is not null)
        {
            w.WriteString("comment", comment);
        }

        w.WriteStartArray("externalRefs");
        w.WriteStartObject();
        w.WriteString("referenceCategory", "PACKAGE-MANAGER");
        w.WriteString("referenceType", "purl");
        w.WriteString("referenceLocator", purl);
        w.WriteEndObject();
        w.WriteEndArray();
        if (annotations is not null)
        {
            w.WriteStartArray("annotations");
            foreach (var (annotator, text, date) in annotations)
            {
                w.WriteStartObject();
                w.WriteString("annotator", annotator);
                w.WriteString("annotationDate", date);
                w.WriteString("annotationType", "OTHER");
                w.WriteString("comment", text);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void SpdxRelationship(Utf8JsonWriter w, string from, string type, string to)
    {
        w.WriteStartObject();
        w.WriteString("spdxElementId", from);
        w.WriteString("relationshipType", type);
        w.WriteString("relatedSpdxElement", to);
        w.WriteEndObject();
    }

    private static string? ReplacementComment(GoModule m) =>
        m.Replacement is { } r ? $"replaced by {r.Path}{(r.Version is { Length: > 0 } v ? " " + v : string.Empty)}" : null;

    private static byte[] SpdxImage(SbomImageFacts f) => Write(w =>
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var imageId = SpdxId("Image", $"{f.Digest.Algorithm}-{f.Digest.Hex}", used);
        var info = f.BuildInfo;
        var relationships = new List<(string, string, string)> { ("SPDXRef-DOCUMENT", "DESCRIBES", imageId) };
        w.WriteStartObject();
        SpdxHeader(w, f.Name, f.Digest, f.Created, imageId);
        w.WriteStartArray("packages");
        SpdxPackage(w, imageId, f.Name, f.Digest.ToString(), OciPurl(f.Name, f.Digest, f.Platform), "CONTAINER", f.Digest.Hex, comment: $"platform {f.Platform}");
        if (f.BaseName is not null)
        {
            var baseId = SpdxId("Image", "base", used);
            var (repository, display) = BaseReference(f.BaseName);
            var baseDigest = f.BaseDigest is not null && Digest.TryParse(f.BaseDigest, out var bd) ? bd : (Digest?)null;
            SpdxPackage(
                w,
                baseId,
                display,
                baseDigest?.ToString(),
                baseDigest is { } d ? OciPurl(repository, d, f.Platform) : $"pkg:oci/{Uri.EscapeDataString(repository.Split('/')[^1].ToLowerInvariant())}?repository_url={Uri.EscapeDataString(repository)}",
                "CONTAINER",
                baseDigest?.Hex,
                comment: "the base image");
            relationships.Add((imageId, "DESCENDANT_OF", baseId));
        }

        var main = info.Main ?? new GoModule(info.PackagePath, "(devel)", null);
        var mainId = SpdxId("Package-go-module", main.Path, used);
        var settings = info.Settings.Select(s => ("Tool: " + Tool, $"build {s.Key}={s.Value}", f.Created)).Prepend(("Tool: " + Tool, $"go {info.GoVersion}", f.Created)).Prepend(("Tool: " + Tool, $"path {info.PackagePath}", f.Created));
        SpdxPackage(w, mainId, main.Path, main.Version, GoPurl(main.Path, main.Version), "APPLICATION", main.Sha256Hex, comment: ReplacementComment(main), annotations: settings);
        relationships.Add((imageId, "CONTAINS", mainId));
        if (info.GoVersion.Length > 0)
        {
            var stdlibId = SpdxId("Package-go-stdlib", info.GoVersion, used);
            SpdxPackage(w, stdlibId, "stdlib", info.GoVersion, GoPurl("stdlib", info.GoVersion), "LIBRARY", null, comment: "the Go standard library and toolchain the binary was built with");
            relationships.Add((mainId, "DEPENDS_ON", stdlibId));
        }

        foreach (var dep in info.Dependencies)
        {
            var depId = SpdxId("Package-go-module", $"{dep.Path}-{dep.Version}", used);
            SpdxPackage(w, depId, dep.Path, GoVersionOf(dep), GoPurl(dep.Path, dep.Version), "LIBRARY", dep.Sha256Hex, comment: ReplacementComment(dep), downloadLocation: dep.Replacement is null ? $"https://proxy.golang.org/{dep.Path.ToLowerInvariant()}/@v/{dep.Version}.zip" : null);
            relationships.Add((mainId, "DEPENDS_ON", depId));
        }

        w.WriteEndArray();
        w.WriteStartArray("relationships");
        foreach (var (from, type, to) in relationships)
        {
            SpdxRelationship(w, from, type, to);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static byte[] SpdxIndex(SbomIndexFacts f) => Write(w =>
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var indexId = SpdxId("ImageIndex", $"{f.Digest.Algorithm}-{f.Digest.Hex}", used);
        w.WriteStartObject();
        SpdxHeader(w, f.Name, f.Digest, f.Created, indexId);
        w.WriteStartArray("packages");
        SpdxPackage(w, indexId, f.Name, f.Digest.ToString(), OciPurl(f.Name, f.Digest), "CONTAINER", f.Digest.Hex, comment: "image index");
        var ids = new List<string>();
        foreach (var (digest, platform) in f.Children)
        {
            var id = SpdxId("Image", $"{digest.Algorithm}-{digest.Hex}", used);
            ids.Add(id);
            SpdxPackage(w, id, f.Name, digest.ToString(), OciPurl(f.Name, digest, platform), "CONTAINER", digest.Hex, comment: $"platform {platform}");
        }

        w.WriteEndArray();
        w.WriteStartArray("relationships");
        SpdxRelationship(w, "SPDXRef-DOCUMENT", "DESCRIBES", indexId);
        foreach (var id in ids)
        {
            SpdxRelationship(w, id, "VARIANT_OF", indexId);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    // ---------------------------------------------------------------- CycloneDX 1.6

    /// <summary>A name-based (version 5, RFC 9562) UUID of the digest in the URL namespace, so the serial number is stable.</summary>
    internal static string SerialNumber(Digest digest)
    {
        byte[] urlNamespace = [0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8];
        var hash = System.Security.Cryptography.SHA1.HashData([.. urlNamespace, .. Encoding.UTF8.GetBytes("https://ko.build/sbom/" + digest)]);
        var bytes = hash.AsSpan(0, 16).ToArray();
        bytes[6] = (byte)((bytes[6] & 0x0f) | 0x50);
        bytes[8] = (byte)((bytes[8] & 0x3f) | 0x80);
        var hex = Convert.ToHexStringLower(bytes);
        return $"urn:uuid:{hex[..8]}-{hex[8..12]}-{hex[12..16]}-{hex[16..20]}-{hex[20..]}";
    }

    private static void CdxHeader(Utf8JsonWriter w, Digest digest, string created)
    {
        w.WriteString("$schema", "http://cyclonedx.org/schema/bom-1.6.schema.json");
        w.WriteString("bomFormat", "CycloneDX");
        w.WriteString("specVersion", "1.6");
        w.WriteString("serialNumber", SerialNumber(digest));
        w.WriteNumber("version", 1);
        w.WriteStartObject("metadata");
        w.WriteString("timestamp", created);
        w.WriteStartObject("tools");
        w.WriteStartArray("components");
        w.WriteStartObject();
        w.WriteString("type", "application");
        w.WriteString("name", Tool);
        w.WriteEndObject();
        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void CdxComponent(
        Utf8JsonWriter w,
        string type,
        string bomRef,
        string name,
        string? version,
        string purl,
        string? sha256Hex,
        IEnumerable<(string Name, string Value)>? properties = null,
        Action<Utf8JsonWriter>? extra = null)
    {
        w.WriteStartObject();
        w.WriteString("type", type);
        w.WriteString("bom-ref", bomRef);
        w.WriteString("name", name);
        if (version is not null)
        {
            w.WriteString("version", version);
        }

        if (sha256Hex is not null)
        {
            w.WriteStartArray("hashes");
            w.WriteStartObject();
            w.WriteString("alg", "SHA-256");
            w.WriteString("content", sha256Hex);
            w.WriteEndObject();
            w.WriteEndArray();
        }

        w.WriteString("purl", purl);
        extra?.Invoke(w);
        if (properties is not null)
        {
            w.WriteStartArray("properties");
            foreach (var (n, v) in properties)
            {
                w.WriteStartObject();
                w.WriteString("name", n);
                w.WriteString("value", v);
                w.WriteEndObject();
            }

            w.WriteEndArray();
        }

        w.WriteEndObject();
    }

    private static void CdxDependency(Utf8JsonWriter w, string from, IEnumerable<string> to)
    {
        w.WriteStartObject();
        w.WriteString("ref", from);
        w.WriteStartArray("dependsOn");
        foreach (var t in to)
        {
            w.WriteStringValue(t);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static byte[] CycloneDxImage(SbomImageFacts f) => Write(w =>
    {
        var info = f.BuildInfo;
        var imageRef = OciPurl(f.Name, f.Digest, f.Platform);
        var main = info.Main ?? new GoModule(info.PackagePath, "(devel)", null);
        var mainRef = GoPurl(main.Path, main.Version);
        var stdlibRef = GoPurl("stdlib", info.GoVersion);
        var deps = info.Dependencies.Select(d => (Module: d, Ref: GoPurl(d.Path, d.Version))).DistinctBy(d => d.Ref).ToList();
        IEnumerable<(string, string)> ModuleProperties(GoModule m) =>
            m.Replacement is { } r ? [("ko:go:replacement", $"{r.Path}{(r.Version is { Length: > 0 } v ? " " + v : string.Empty)}")] : [];

        w.WriteStartObject();
        CdxHeader(w, f.Digest, f.Created);
        w.WritePropertyName("component");
        CdxComponent(w, "container", imageRef, f.Name, f.Digest.ToString(), imageRef, f.Digest.Hex, [("ko:platform", f.Platform.ToString())], extra: f.BaseName is null ? null : x =>
        {
            var (repository, display) = BaseReference(f.BaseName);
            var baseDigest = f.BaseDigest is not null && Digest.TryParse(f.BaseDigest, out var bd) ? bd : (Digest?)null;
            var basePurl = baseDigest is { } d ? OciPurl(repository, d, f.Platform) : $"pkg:oci/{Uri.EscapeDataString(repository.Split('/')[^1].ToLowerInvariant())}?repository_url={Uri.EscapeDataString(repository)}";
            x.WriteStartObject("pedigree");
            x.WriteStartArray("ancestors");
            CdxComponent(x, "container", "base:" + basePurl, display, baseDigest?.ToString(), basePurl, baseDigest?.Hex);
            x.WriteEndArray();
            x.WriteEndObject();
        });
        w.WriteEndObject(); // metadata
        w.WriteStartArray("components");
        var mainProperties = new List<(string, string)> { ("ko:go:path", info.PackagePath), ("ko:go:version", info.GoVersion) };
        mainProperties.AddRange(info.Settings.Select(s => ("ko:go:build:" + s.Key, s.Value)));
        mainProperties.AddRange(ModuleProperties(main));
        CdxComponent(w, "application", mainRef, main.Path, main.Version, mainRef, main.Sha256Hex, mainProperties);
        if (info.GoVersion.Length > 0)
        {
            CdxComponent(w, "library", stdlibRef, "stdlib", info.GoVersion, stdlibRef, null, [("ko:go:version", info.GoVersion)]);
        }

        foreach (var (dep, r) in deps)
        {
            CdxComponent(w, "library", r, dep.Path, dep.Version, r, dep.Sha256Hex, ModuleProperties(dep));
        }

        w.WriteEndArray();
        w.WriteStartArray("dependencies");
        CdxDependency(w, imageRef, [mainRef]);
        CdxDependency(w, mainRef, (info.GoVersion.Length > 0 ? new[] { stdlibRef } : []).Concat(deps.Select(d => d.Ref)));
        if (info.GoVersion.Length > 0)
        {
            CdxDependency(w, stdlibRef, []);
        }

        foreach (var (_, r) in deps)
        {
            CdxDependency(w, r, []);
        }

        w.WriteEndArray();
        w.WriteEndObject();
    });

    private static byte[] CycloneDxIndex(SbomIndexFacts f) => Write(w =>
    {
        var indexRef = OciPurl(f.Name, f.Digest);
        w.WriteStartObject();
        CdxHeader(w, f.Digest, f.Created);
        w.WritePropertyName("component");
        CdxComponent(w, "container", indexRef, f.Name, f.Digest.ToString(), indexRef, f.Digest.Hex, [("ko:mediaType", "image index")], extra: x =>
        {
            x.WriteStartObject("pedigree");
            x.WriteStartArray("variants");
            foreach (var (digest, platform) in f.Children)
            {
                var r = OciPurl(f.Name, digest, platform);
                CdxComponent(x, "container", "variant:" + r, f.Name, digest.ToString(), r, digest.Hex, [("ko:platform", platform.ToString())]);
            }

            x.WriteEndArray();
            x.WriteEndObject();
        });
        w.WriteEndObject(); // metadata
        w.WriteStartArray("components");
        foreach (var (digest, platform) in f.Children)
        {
            var r = OciPurl(f.Name, digest, platform);
            CdxComponent(w, "container", r, f.Name, digest.ToString(), r, digest.Hex, [("ko:platform", platform.ToString())]);
        }

        w.WriteEndArray();
        w.WriteStartArray("dependencies");
        CdxDependency(w, indexRef, f.Children.Select(c => OciPurl(f.Name, c.Digest, c.Platform)));
        w.WriteEndArray();
        w.WriteEndObject();
    });
}
