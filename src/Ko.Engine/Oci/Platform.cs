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

    /// <summary>
    /// The OS version (<c>os.version</c>, e.g. <c>10.0.17763.1234</c>), which selects among Windows images; null when
    /// not given.
    /// </summary>
    public string? OsVersion { get; init; }

    /// <summary>
    /// Parses <c>os[/arch[/variant]][:osversion]</c> as ko (go-containerregistry's v1.ParsePlatform): <c>linux</c>
    /// alone means every linux platform, any variant is accepted (it may then match nothing), and an OS version
    /// selects among Windows images. Throws <see cref="KoException"/> (<c>KO1001</c>) when malformed or unknown.
    /// </summary>
    /// <param name="value">The platform text.</param>
    public static Platform Parse(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        var text = value.Trim();
        string? osVersion = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            osVersion = text[(colon + 1)..];
            text = text[..colon];
            if (osVersion.Length == 0 || osVersion.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_')))
            {
                throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': the OS version after ':' must be letters, digits and dots, for example windows/amd64:10.0.17763.1234.");
            }
        }

        var parts = text.Split('/');
        if (parts.Length > 3 || parts.Any(string.IsNullOrWhiteSpace))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}' is not a platform: write os, os/arch or os/arch/variant, for example linux, linux/amd64 or linux/arm/v7.");
        }

        var os = parts[0].ToLowerInvariant();
        var arch = parts.Length > 1 ? parts[1].ToLowerInvariant() : string.Empty;
        if (!KnownOs.Contains(os))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': unknown operating system '{parts[0]}' (known: {string.Join(", ", KnownOs.Order(StringComparer.Ordinal))}).");
        }

        if (arch.Length > 0 && !KnownArchitectures.Contains(arch))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': unknown architecture '{parts[1]}' (known: {string.Join(", ", KnownArchitectures.Order(StringComparer.Ordinal))}).");
        }

        string? variant = parts.Length == 3 ? parts[2].ToLowerInvariant() : null;
        if (variant is not null && !variant.All(c => char.IsAsciiLetterOrDigit(c) || c == '.'))
        {
            throw new KoException(KoErrorCodes.InvalidPlatform, $"'{value}': variant '{parts[2]}' must be letters, digits and dots, for example v7.");
        }

        return new Platform(os, arch, variant) { OsVersion = osVersion };
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
    /// True when an image of platform <paramref name="candidate"/> satisfies this wanted platform, as ko's
    /// platformMatcher (pkg/build/gobuild.go): a wanted platform without an architecture accepts every architecture,
    /// without a variant every variant (<c>arm64</c> treats no variant and <c>v8</c> as one); an OS version must be
    /// equal, except that a Windows X.Y.Z accepts any X.Y.Z.N.
    /// </summary>
    /// <param name="candidate">The platform an image offers.</param>
    public bool Accepts(Platform candidate)
    {
        if (!string.Equals(Os, candidate.Os, StringComparison.Ordinal)
            || (Architecture.Length > 0 && !string.Equals(Architecture, candidate.Architecture, StringComparison.Ordinal)))
        {
            return false;
        }

        if (Variant is not null && !string.Equals(NormalVariant(this), NormalVariant(candidate), StringComparison.Ordinal))
        {
            return false;
        }

        return OsVersion is null || OsVersion == candidate.OsVersion || (Os == "windows" && candidate.OsVersion is { } v
            && OsVersion.Count(c => c == '.') == 2 && v.Count(c => c == '.') == 3 && v[..v.LastIndexOf('.')] == OsVersion);
    }

    /// <inheritdoc />
    public override string ToString() =>
        (Architecture.Length == 0 ? Os : Variant is null ? $"{Os}/{Architecture}" : $"{Os}/{Architecture}/{Variant}")
        + (OsVersion is null ? string.Empty : ":" + OsVersion);

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
        var osVersion = OciJson.OptionalString(root, "os.version", where);
        return new Platform(OciJson.OptionalString(root, "os", where) ?? string.Empty, OciJson.OptionalString(root, "architecture", where) ?? string.Empty, variant.Length == 0 ? null : variant)
        {
            OsVersion = string.IsNullOrEmpty(osVersion) ? null : osVersion,
        };
    }
}
