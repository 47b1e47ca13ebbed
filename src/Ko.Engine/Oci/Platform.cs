using System.Runtime.InteropServices;

namespace Ko.Engine.Oci;

/// <summary>An image platform: <c>os/architecture[/variant]</c>, for example <c>linux/arm/v7</c>.</summary>
/// <param name="Os">The operating system, e.g. <c>linux</c>.</param>
/// <param name="Architecture">The architecture in Go's spelling, e.g. <c>amd64</c>.</param>
/// <param name="Variant">The variant, e.g. <c>v7</c>, or <see langword="null"/>.</param>
public sealed record Platform(string Os, string Architecture, string? Variant = null)
{
    private static readonly HashSet<string> KnownOs = ["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "android", "ios", "plan9", "dragonfly", "js", "wasip1"];

    private static readonly HashSet<string> KnownArchitectures = ["386", "amd64", "arm", "arm64", "loong64", "mips", "mipsle", "mips64", "mips64le", "ppc64", "ppc64le", "riscv64", "s390x", "wasm"];

    /// <summary>Parses <c>os/arch[/variant]</c>; throws <see cref="KoException"/> (<c>KO1001</c>) when malformed or unknown.</summary>
    /// <param name="value">The platform text.</param>
    public static Platform Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var colon = value.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            // ko's os/arch[/variant]:osversion; an OS version only selects among Windows images.
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': an OS version ('{value[(colon + 1)..]}') selects Windows images, and only linux images are supported; write os/arch or os/arch/variant, for example linux/amd64.");
        }

        var parts = value.Trim().Split('/');
        if (parts.Length is < 2 or > 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}' is not a platform: write os/arch or os/arch/variant, for example linux/amd64 or linux/arm/v7.");
        }

        var os = parts[0].ToLowerInvariant();
        var arch = parts[1].ToLowerInvariant();
        if (!KnownOs.Contains(os))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': unknown operating system '{parts[0]}' (known: {string.Join(", ", KnownOs.Order(StringComparer.Ordinal))}).");
        }

        if (!KnownArchitectures.Contains(arch))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': unknown architecture '{parts[1]}' (known: {string.Join(", ", KnownArchitectures.Order(StringComparer.Ordinal))}).");
        }

        string? variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null;
        if (variant is not null)
        {
            var valid = arch switch
            {
                "arm" => variant is "v5" or "v6" or "v7",
                "arm64" => variant is "v8" or "v8.0" or "v9",
                "amd64" => variant is "v1" or "v2" or "v3" or "v4",
                _ => false,
            };
            if (!valid)
            {
                throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': variant '{parts[2]}' is not valid for {arch} (arm: v5, v6, v7; arm64: v8; amd64: v1 to v4).");
            }
        }

        return new Platform(os, arch, variant);
    }

    /// <summary>The platform of the machine running the engine, on Linux: <c>linux/&lt;arch&gt;</c>.</summary>
    public static Platform Host()
    {
        var arch = RuntimeInformation.OSArchitecture switch
        {
            System.Runtime.InteropServices.Architecture.X64 => "amd64",
            System.Runtime.InteropServices.Architecture.Arm64 => "arm64",
            System.Runtime.InteropServices.Architecture.Arm => "arm",
            System.Runtime.InteropServices.Architecture.X86 => "386",
            System.Runtime.InteropServices.Architecture.S390x => "s390x",
            System.Runtime.InteropServices.Architecture.Ppc64le => "ppc64le",
            (System.Runtime.InteropServices.Architecture)9 => "riscv64", // Architecture.RiscV64, named from .NET 9 on (net8.0 build)
            System.Runtime.InteropServices.Architecture.LoongArch64 => "loong64",
            _ => "amd64",
        };
        return new Platform("linux", arch, arch == "arm" ? "v7" : null);
    }

    /// <summary>
    /// True when an image of platform <paramref name="candidate"/> satisfies this wanted platform. A wanted
    /// platform without a variant accepts any variant; <c>arm64</c> treats no variant and <c>v8</c> as one.
    /// </summary>
    /// <param name="candidate">The platform an image offers.</param>
    public bool Accepts(Platform candidate)
    {
        if (!string.Equals(Os, candidate.Os, StringComparison.Ordinal) || !string.Equals(Architecture, candidate.Architecture, StringComparison.Ordinal))
        {
            return false;
        }

        return Variant is null || string.Equals(NormalVariant(this), NormalVariant(candidate), StringComparison.Ordinal);
    }

    /// <inheritdoc />
    public override string ToString() => Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}";

    private static string? NormalVariant(Platform p) => p.Architecture switch
    {
        "arm64" when p.Variant is null or "v8.0" => "v8",
        "amd64" when p.Variant is null => "v1",
        _ => p.Variant,
    };

    /// <summary>The platform an image config declares; a <see cref="FormatException"/> when it is not a JSON object or a platform field is not a string.</summary>
    internal static Platform FromConfig(ReadOnlySpan<byte> configBytes, string where = "the image config")
    {
        using var doc = OciJson.Parse(configBytes, where);
        var root = OciJson.Object(doc.RootElement, "the config", where);
        var variant = OciJson.OptionalString(root, "variant", where) ?? string.Empty;
        return new Platform(OciJson.OptionalString(root, "os", where) ?? string.Empty, OciJson.OptionalString(root, "architecture", where) ?? string.Empty, variant.Length == 0 ? null : variant);
    }
}
