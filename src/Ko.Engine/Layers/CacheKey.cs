using System.Text;
using Ko.Engine.Oci;

namespace Ko.Engine.Layers;

/// <summary>Builds cache keys: the SHA-256 of length-prefixed parts, so no two different part lists collide.</summary>
internal static class CacheKey
{
    public static string Of(params string[] parts)
    {
        var sb = new StringBuilder();
        foreach (var p in parts)
        {
            sb.Append(p.Length).Append(':').Append(p).Append(';');
        }

        return Digest.Sha256(Encoding.UTF8.GetBytes(sb.ToString())).Hex;
    }
}
