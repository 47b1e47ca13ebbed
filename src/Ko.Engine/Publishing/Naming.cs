using System.Text;

namespace Ko.Engine.Publishing;

/// <summary>How image names are derived from import paths, as ko does.</summary>
public enum NamingStrategy
{
    /// <summary><c>REPO/&lt;basename&gt;-&lt;md5 of the lower-cased import path&gt;</c> (ko's default).</summary>
    Md5 = 0,
    /// <summary><c>REPO</c> alone (<c>--bare</c>).</summary>
    Bare,
    /// <summary><c>REPO/&lt;lower-cased import path&gt;</c> (<c>-P</c>, <c>--preserve-import-paths</c>).</summary>
    PreserveImportPath,
    /// <summary><c>REPO/&lt;basename&gt;</c> (<c>-B</c>, <c>--base-import-paths</c>).</summary>
    BaseImportPath,
}

/// <summary>Image names and the printed reference forms.</summary>
internal static class Naming
{
    public static string ImageName(string repository, string importPath, NamingStrategy strategy)
    {
        var lower = importPath.ToLowerInvariant();
        var baseName = lower.TrimEnd('/').Split('/')[^1];
        return strategy switch
        {
            NamingStrategy.Bare => repository,
            NamingStrategy.PreserveImportPath => repository + "/" + lower,
            NamingStrategy.BaseImportPath => repository + "/" + baseName,
            _ => repository + "/" + baseName + "-" + Md5Hex(lower),
        };
    }

    /// <summary>MD5 as ko names images; in managed code (BouncyCastle), so naming does not load OpenSSL (see <see cref="Oci.Digest.Sha256Hash"/>).</summary>
    public static string Md5Hex(string text)
    {
        var md5 = new Org.BouncyCastle.Crypto.Digests.MD5Digest();
        md5.BlockUpdate(Encoding.UTF8.GetBytes(text));
        var hash = new byte[md5.GetDigestSize()];
        md5.DoFinal(hash);
        return Convert.ToHexStringLower(hash);
    }

    /// <summary>
    /// The reference printed for a built image, as ko prints it: <c>name@sha256:…</c>; <c>name:tag@sha256:…</c> for a
    /// single tag other than latest; <c>name:tag</c> with tag-only.
    /// </summary>
    public static string PrintedReference(string name, IReadOnlyList<string> tags, string digest, bool tagOnly)
    {
        if (tagOnly)
        {
            return $"{name}:{tags[0]}";
        }

        return tags.Count == 1 && tags[0] != "latest" ? $"{name}:{tags[0]}@{digest}" : $"{name}@{digest}";
    }
}
