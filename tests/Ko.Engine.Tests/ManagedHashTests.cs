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
