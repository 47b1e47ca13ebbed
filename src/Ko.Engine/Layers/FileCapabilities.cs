using System.Buffers.Binary;
using System.Globalization;

namespace Ko.Engine.Layers;

/// <summary>
/// File capabilities for the binary, from <c>linux_capabilities</c> terms as ko's pkg/caps reads them: a plain name
/// (<c>net_bind_service</c>, <c>CAP_CHOWN</c>, <c>ALL</c>, or a number 0–63) adds to the permitted set only; a
/// <c>cap_from_text</c> clause (<c>cap_net_raw=p</c>, <c>=ie</c>, <c>chown,kill+pe</c>, <c>all-i</c>) edits the
/// permitted, inheritable and effective sets in order. The effective flag is set when any effective bit is.
/// </summary>
internal sealed class FileCapabilities
{
    /// <summary>Linux capability names by number (0 = CHOWN ... 40 = CHECKPOINT_RESTORE), as capabilities(7).</summary>
    private static readonly string[] Names =
    [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
        "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
        "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
        "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
        "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
        "CHECKPOINT_RESTORE",
    ];

    private FileCapabilities(ulong permitted, ulong inheritable, bool effective)
    {
        Permitted = permitted;
        Inheritable = inheritable;
        Effective = effective;
    }

    /// <summary>The permitted set (bit n = capability n).</summary>
    public ulong Permitted { get; }

    /// <summary>The inheritable set.</summary>
    public ulong Inheritable { get; }

    /// <summary>Whether the effective flag is set (the kernel raises the permitted set on exec).</summary>
    public bool Effective { get; }

    /// <summary>
    /// Reads the terms; an unknown name or action letter is a <c>KO1102</c> naming <paramref name="where"/>.
    /// Terms that leave the permitted and inheritable sets empty give an empty result (no xattr is written).
    /// </summary>
    public static FileCapabilities Parse(IReadOnlyList<string> terms, string where)
    {
        ulong permitted = 0, inheritable = 0, effective = 0;
        foreach (var term in terms)
        {
            var split = term.IndexOfAny(['+', '-', '=']);
            if (split < 0)
            {
                permitted |= Mask(term, term, where);
                continue;
            }

            var names = term[..split];
            var actions = term[split..];
            if (names.Length == 0 && actions[0] == '=')
            {
                names = "all";
            }

            ulong mask = 0;
            foreach (var name in names.Split(','))
            {
                mask |= Mask(name, term, where);
            }

            ulong keep = ulong.MaxValue;
            foreach (var action in actions)
            {
                switch (action)
                {
                    case '+':
                        keep = ulong.MaxValue;
                        break;
                    case '-':
                        keep = ~mask;
                        break;
                    case '=':
                        keep = ulong.MaxValue;
                        permitted &= ~mask;
                        inheritable &= ~mask;
                        effective &= ~mask;
                        break;
                    case 'p':
                        permitted = (permitted | mask) & keep;
                        break;
                    case 'i':
                        inheritable = (inheritable | mask) & keep;
                        break;
                    case 'e':
                        effective = (effective | mask) & keep;
                        break;
                    default:
                        throw new KoException(KoErrorCodes.ConfigWrongType, $"{where}: '{term}' has the unknown flag '{action}'; a clause is NAMES followed by +, - or = and the flags p, i and e (for example cap_net_raw+p).");
                }
            }
        }

        return new FileCapabilities(permitted, inheritable, effective != 0);
    }

    /// <summary>True when no capability is permitted or inheritable: ko then writes no xattr.</summary>
    public bool IsEmpty => Permitted == 0 && Inheritable == 0;

    /// <summary>
    /// The <c>security.capability</c> value (<c>vfs_cap_data</c> revision 2, little-endian): 0x02000000 plus 1 when
    /// effective, then permitted/inheritable for bits 0–31 and 32–63; null when <see cref="IsEmpty"/>.
    /// </summary>
    public byte[]? XattrBytes()
    {
        if (IsEmpty)
        {
            return null;
        }

        var bytes = new byte[20];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, 0x02000000u | (Effective ? 1u : 0u));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), (uint)Permitted);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)Inheritable);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(12), (uint)(Permitted >> 32));
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)(Inheritable >> 32));
        return bytes;
    }

    // One capability: a decimal number below 64, ALL, or a name with or without CAP_ (any case).
    private static ulong Mask(string name, string term, string where)
    {
        if (name.Length > 0 && name.All(char.IsAsciiDigit) && ulong.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var bit) && bit < 64)
        {
            return 1UL << (int)bit;
        }

        var upper = name.ToUpperInvariant();
        if (upper == "ALL")
        {
            return (1UL << Names.Length) - 1;
        }

        var index = Array.IndexOf(Names, upper.StartsWith("CAP_", StringComparison.Ordinal) ? upper[4..] : upper);
        return index >= 0
            ? 1UL << index
            : throw new KoException(KoErrorCodes.ConfigWrongType, $"{where}: '{name}'{(name == term ? string.Empty : $" in '{term}'")} is not a Linux capability; use names such as CAP_NET_BIND_SERVICE (see capabilities(7)), a number below 64, or ALL.");
    }
}
