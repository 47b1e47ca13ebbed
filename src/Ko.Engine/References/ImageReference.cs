using Ko.Engine.Oci;

namespace Ko.Engine.References;

/// <summary>
/// An image reference <c>[registry/]repository[:tag][@digest]</c>, parsed and normalised as docker does: a name
/// whose first component has no '.' or ':' and is not <c>localhost</c> lives on Docker Hub (<c>docker.io</c>,
/// spoken to at <c>registry-1.docker.io</c>), and a single-component Docker Hub repository gains <c>library/</c>.
/// </summary>
/// <param name="Registry">The registry as written (normalised: <c>docker.io</c> for Docker Hub).</param>
/// <param name="Repository">The repository path, lower case, e.g. <c>library/alpine</c>.</param>
/// <param name="Tag">The tag, when one is given.</param>
/// <param name="Digest">The digest, when one is given.</param>
internal sealed record ImageReference(string Registry, string Repository, string? Tag, Digest? Digest)
{
    /// <summary>Docker Hub's registry name in references.</summary>
    public const string DockerHub = "docker.io";

    /// <summary>The host Docker Hub's registry API answers on.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    private const int MaxNameLength = 255;
    private const int MaxTagLength = 128;

    /// <summary>The host (and port) to send API requests to: <c>registry-1.docker.io</c> for Docker Hub, else <see cref="Registry"/>.</summary>
    public string ApiHost => Registry == DockerHub ? DockerHubApiHost : Registry;

    /// <summary><c>registry/repository</c>, without tag or digest.</summary>
    public string Name => $"{Registry}/{Repository}";

    /// <summary>What to ask the manifests API for: the digest when there is one, else the tag, else <c>latest</c>.</summary>
    public string ManifestReference => Digest?.ToString() ?? Tag ?? "latest";

    /// <summary>The normalised form: <c>registry/repository[:tag][@digest]</c>.</summary>
    public override string ToString() =>
        Name + (Tag is null ? string.Empty : ":" + Tag) + (Digest is null ? string.Empty : "@" + Digest);

    /// <summary>Parses a reference; throws <see cref="KoException"/> with <paramref name="errorCode"/> when it is malformed.</summary>
    public static ImageReference Parse(string text, string errorCode = KoErrorCodes.InvalidBaseImage)
    {
        if (!TryParse(text, out var reference, out var error))
        {
            throw new KoException(errorCode, $"'{Redact(text)}' is not an image reference: {error}. Write [REGISTRY/]REPOSITORY[:TAG][@sha256:DIGEST], e.g. registry.example/team/app:v1.");
        }

        return reference;
    }

    /// <summary>Parses a reference as docker does, or says what is wrong with it.</summary>
    public static bool TryParse(string? text, out ImageReference reference, out string error)
    {
        reference = null!;
        error = WholeTextError(text) ?? string.Empty;
        if (error.Length > 0)
        {
            return false;
        }

        var rest = text!;
        Digest? digest = null;
        string? tag = null;
        error = SplitDigest(ref rest, ref digest) ?? SplitTag(ref rest, ref tag) ?? string.Empty;
        if (error.Length > 0)
        {
            return false;
        }

        if (rest.Length == 0)
        {
            error = "it names no repository";
            return false;
        }

        var (registry, path, registryError) = SplitRegistry(rest);
        error = registryError ?? PathError(path) ?? string.Empty;
        if (error.Length > 0)
        {
            return false;
        }

        if (registry == DockerHub && !path.Contains('/', StringComparison.Ordinal))
        {
            path = "library/" + path;
        }

        if (registry.Length + 1 + path.Length > MaxNameLength)
        {
            error = $"the name is longer than {MaxNameLength} characters";
            return false;
        }

        reference = new ImageReference(registry, path, tag, digest);
        return true;
    }

    // What is wrong with the text as a whole (empty, white space, credentials, a URL), before it is split.
    private static string? WholeTextError(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "it is empty";
        }

        if (text.Trim().Length != text.Length || text.Any(char.IsWhiteSpace))
        {
            return "it contains white space";
        }

        if (UserInfoEnd(text) >= 0)
        {
            return "it has an '@' that is not followed by a digest (sha256:…), so it is read as a user name or password (USER:PASSWORD@), which must never be written into an image reference. "
                + "If it is meant as a digest, write @sha256: and 64 lower-case hex characters; to use credentials, store them with `dotnet ko login REGISTRY --username USER --password-stdin` (or docker login, or a docker config.json) and write REGISTRY/REPOSITORY alone";
        }

        return text.Contains("://", StringComparison.Ordinal)
            ? "it is a URL; write the registry host without a scheme (https:// is used unless the registry is on loopback or marked insecure)"
            : null;
    }

    private static string? SplitDigest(ref string rest, ref Digest? digest)
    {
        var at = rest.IndexOf('@', StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var digestText = rest[(at + 1)..];
        if (!Oci.Digest.TryParse(digestText, out var d))
        {
            return $"'{digestText}' is not a digest (sha256: and 64 lower-case hex characters)";
        }

        digest = d;
        rest = rest[..at];
        return null;
    }

    private static string? SplitTag(ref string rest, ref string? tag)
    {
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon <= lastSlash)
        {
            return null;
        }

        tag = rest[(colon + 1)..];
        rest = rest[..colon];
        return IsTag(tag) ? null : $"'{tag}' is not a tag (up to {MaxTagLength} of letters, digits, '_', '.', '-', not starting with '.' or '-')";
    }

    // The registry (docker.io when the first component does not look like a host) and the repository path.
    private static (string Registry, string Path, string? Error) SplitRegistry(string rest)
    {
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var first = slash < 0 ? rest : rest[..slash];
        if (slash < 0 || !LooksLikeRegistry(first))
        {
            return (DockerHub, rest, null);
        }

        var registry = first;
        if (!IsRegistry(registry))
        {
            return (registry, string.Empty, $"'{registry}' is not a registry host[:port]");
        }

        return (registry is "index.docker.io" or DockerHubApiHost ? DockerHub : registry, rest[(slash + 1)..], null);
    }

    private static string? PathError(string path)
    {
        if (path.Length == 0)
        {
            return "it names no repository";
        }

        if (path.Any(char.IsAsciiLetterUpper))
        {
            return $"the repository '{path}' must be lower case";
        }

        foreach (var component in path.Split('/'))
        {
            if (!IsPathComponent(component))
            {
                return component.Length == 0
                    ? $"the repository '{path}' has an empty path component"
                    : $"'{component}' is not a repository path component (lower-case letters and digits, separated by '.', '_', '__' or '-')";
            }
        }

        return null;
    }

    /// <summary>
    /// The text with any user information (<c>USER[:PASSWORD]@</c> before the registry, with or without a
    /// <c>scheme://</c>) replaced by <c>***</c>, for messages: a password written into a reference is never echoed.
    /// </summary>
    public static string Redact(string? text)
    {
        if (text is null)
        {
            return string.Empty;
        }

        var end = UserInfoEnd(text);
        if (end < 0)
        {
            return text;
        }

        // A leading scheme (https://) is kept; everything else before the '@' goes.
        var scheme = text.IndexOf("://", StringComparison.Ordinal);
        var start = scheme > 0 && scheme < end && char.IsAsciiLetter(text[0]) && text[..scheme].All(c => char.IsAsciiLetterOrDigit(c) || c is '+' or '.' or '-') ? scheme + 3 : 0;
        return text[..start] + "***" + text[end..];
    }

    // Where user information ends (the index of its '@'), or -1. A reference's only '@' comes before its digest,
    // and a digest (sha256:..., sha384:..., sha512:...) never holds a '/' or another '@'; any other '@' is the end
    // of USER[:PASSWORD]@ — the last such one, since a password may itself hold '@'.
    private static int UserInfoEnd(string text)
    {
        var last = text.LastIndexOf('@');
        if (last < 0)
        {
            return -1;
        }

        var after = text.AsSpan(last + 1);
        var digestLike = after.IndexOf('/') < 0
            && (after.StartsWith("sha256:", StringComparison.Ordinal) || after.StartsWith("sha384:", StringComparison.Ordinal) || after.StartsWith("sha512:", StringComparison.Ordinal));
        if (!digestLike)
        {
            return last;
        }

        return last == 0 ? -1 : text.LastIndexOf('@', last - 1);
    }

    /// <summary>True when a first name component is a registry rather than a Docker Hub namespace.</summary>
    public static bool LooksLikeRegistry(string component) =>
        component.Length > 0 && (component.Contains('.', StringComparison.Ordinal) || component.Contains(':', StringComparison.Ordinal) || component == "localhost" || component[0] == '[');

    /// <summary>True when two registry names (<c>docker.io</c> and its aliases included) are the same registry.</summary>
    public static bool SameRegistry(string a, string b) =>
        string.Equals(NormaliseRegistry(a), NormaliseRegistry(b), StringComparison.OrdinalIgnoreCase);

    private static string NormaliseRegistry(string registry) =>
        registry is "index.docker.io" or DockerHubApiHost ? DockerHub : registry;

    private static bool IsTag(string tag)
    {
        if (tag.Length is 0 or > MaxTagLength || !(char.IsAsciiLetterOrDigit(tag[0]) || tag[0] == '_'))
        {
            return false;
        }

        return tag.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-');
    }

    // docker's path-component: [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)*
    private static bool IsPathComponent(string component)
    {
        if (component.Length == 0 || !IsAlnum(component[0]) || !IsAlnum(component[^1]))
        {
            return false;
        }

        var i = 0;
        while (i < component.Length)
        {
            if (IsAlnum(component[i]))
            {
                i++;
                continue;
            }

            var start = i;
            while (i < component.Length && !IsAlnum(component[i]))
            {
                i++;
            }

            var separator = component[start..i];
            if (!(separator is "." or "_" or "__" || separator.All(c => c == '-')))
            {
                return false;
            }
        }

        return true;

        static bool IsAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
    }

    // docker's domain: host components ([a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]) joined by '.', or an
    // IPv6 address in brackets; then an optional :port.
    private static bool IsRegistry(string registry)
    {
        string host;
        string? port = null;
        if (registry.StartsWith('['))
        {
            var end = registry.IndexOf(']', StringComparison.Ordinal);
            if (end < 0 || !System.Net.IPAddress.TryParse(registry[1..end], out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return false;
            }

            var after = registry[(end + 1)..];
            if (after.Length > 0)
            {
                if (after[0] != ':')
                {
                    return false;
                }

                port = after[1..];
            }

            return port is null || IsPort(port);
        }

        var colon = registry.IndexOf(':', StringComparison.Ordinal);
        if (colon >= 0)
        {
            host = registry[..colon];
            port = registry[(colon + 1)..];
            if (!IsPort(port))
            {
                return false;
            }
        }
        else
        {
            host = registry;
        }

        return host.Length > 0 && host.Split('.').All(c =>
            c.Length > 0 && char.IsAsciiLetterOrDigit(c[0]) && char.IsAsciiLetterOrDigit(c[^1]) && c.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '-'));
    }

    private static bool IsPort(string port) => port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit) && int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) is > 0 and <= 65535;
}
