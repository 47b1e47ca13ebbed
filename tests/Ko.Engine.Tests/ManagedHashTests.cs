using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Ko.Engine.Oci;
using Ko.Engine.Publishing;

namespace Ko.Engine.Tests;

/// <summary>
/// Small inputs are hashed in managed code so that a no-op rebuild never loads OpenSSL; the digests must be the
/// ones .NET's (OpenSSL's) SHA-256 and MD5 give, on both sides of the size limit.
/// </summary>
public sealed class ManagedHashTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(55)]
    [InlineData(56)]
    [InlineData(64)]
    [InlineData(Digest.ManagedHashLimit - 1)]
    [InlineData(Digest.ManagedHashLimit)]
    [InlineData(Digest.ManagedHashLimit + 1)]
    public void Sha256_below_and_above_the_managed_limit_is_sha256(int size)
    {
        var bytes = new byte[size];
        new Random(size).NextBytes(bytes);

        Assert.Equal(SHA256.HashData(bytes), Digest.Sha256Hash(bytes));
        Assert.Equal("sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes)), Digest.Sha256(bytes).ToString());
    }

    [Fact]
    public void Sha256_of_any_small_input_is_sha256() =>
        Gen.Byte.Array[0, 4096].Sample(bytes => Assert.Equal(SHA256.HashData(bytes), Digest.Sha256Hash(bytes)), iter: 300);

    [Theory]
    [InlineData("")]
    [InlineData("example.com/hello")]
    [InlineData("github.com/ko-build/ko/test/ünïcode")]
    public void Image_name_md5_is_md5(string importPath) =>
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(importPath))), Naming.Md5Hex(importPath));
}

/// <summary>kodata entries are sorted as Go sorts names (UTF-8 bytes), without encoding them for each comparison.</summary>
public sealed class KodataNameOrderTests
{
    private static readonly Gen<string> Names =
        Gen.OneOf(Gen.Char['a', 'z'], Gen.Char['\uE000', '\uFFFD'], Gen.Char['\u00C0', '\u07FF'], Gen.Const('.'))
            .Array[0, 6]
            .Select(Gen.Int[0, 3], (chars, emoji) => new string(chars) + string.Concat(Enumerable.Repeat("\U0001F600", emoji)));

    [Fact]
    public void Name_order_is_utf8_byte_order() =>
        Gen.Select(Names, Names).Sample((a, b) =>
            Assert.Equal(
                Math.Sign(Encoding.UTF8.GetBytes(a).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b))),
                Math.Sign(Ko.Engine.Layers.AppLayers.CompareUtf8(a, b))),
            iter: 2000);

    [Theory]
    [InlineData("\uFFFD", "\U0001F600")] // U+FFFD sorts before U+1F600 in UTF-8, after its surrogates in UTF-16
    [InlineData("a", "ab")]
    [InlineData("", "a")]
    public void Known_pairs_sort_as_utf8(string first, string second)
    {
        Assert.True(Ko.Engine.Layers.AppLayers.CompareUtf8(first, second) < 0);
        Assert.True(Ko.Engine.Layers.AppLayers.CompareUtf8(second, first) > 0);
    }
}
