using System.Buffers.Binary;
using System.Text;
using Org.BouncyCastle.Crypto.Digests;

namespace Ko.Engine.Util;

/// <summary>
/// A SHA-256 cache key built from many parts without joining them into one string first (a kodata tree of thousands
/// of files): each string is written with its length, each number and fingerprint as fixed-width bytes, so no two
/// sequences of parts hash alike. Managed (BouncyCastle), like the other small hashes of a no-op rebuild.
/// </summary>
internal sealed class StatKeyHasher
{
    private readonly Sha256Digest _digest = new();
    private readonly byte[] _buffer = new byte[64];

    /// <summary>Starts a key; <paramref name="kind"/> names its format (a new format never meets an old key).</summary>
    public StatKeyHasher(string kind) => Add(kind);

    /// <summary>Adds a string (its UTF-8 length, then its bytes).</summary>
    public void Add(string text)
    {
        var length = Encoding.UTF8.GetByteCount(text);
        Add(length);
        var bytes = length <= _buffer.Length ? _buffer : new byte[length];
        Encoding.UTF8.GetBytes(text, bytes);
        _digest.BlockUpdate(bytes.AsSpan(0, length));
    }

    /// <summary>Adds a number.</summary>
    public void Add(long value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(_buffer, value);
        _digest.BlockUpdate(_buffer.AsSpan(0, 8));
    }

    /// <summary>Adds every field of a fingerprint.</summary>
    public void Add(FileFingerprint f)
    {
        var span = _buffer.AsSpan(0, 42);
        BinaryPrimitives.WriteUInt64LittleEndian(span, f.Device);
        BinaryPrimitives.WriteUInt64LittleEndian(span[8..], f.Inode);
        BinaryPrimitives.WriteUInt16LittleEndian(span[16..], f.Mode);
        BinaryPrimitives.WriteInt64LittleEndian(span[18..], f.Size);
        BinaryPrimitives.WriteInt64LittleEndian(span[26..], f.ModifiedNs);
        BinaryPrimitives.WriteInt64LittleEndian(span[34..], f.ChangedNs);
        _digest.BlockUpdate(span);
    }

    /// <summary>The key, as lowercase hex.</summary>
    public string Finish()
    {
        var hash = new byte[32];
        _digest.DoFinal(hash);
        return Convert.ToHexStringLower(hash);
    }
}
