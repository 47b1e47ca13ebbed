using System.Diagnostics.CodeAnalysis;

namespace Ko.Engine.Util;

/// <summary>
/// <see cref="Uri.TryCreate(string, UriKind, out Uri)"/> for text from outside (registry headers, token realms).
/// .NET's parser throws on some inputs instead of answering false: an <see cref="IndexOutOfRangeException"/> for
/// <c>file://</c> followed by U+202A and many slashes, resolved against a base (found by the fuzz suite), which would
/// end a build with a stack trace. Here anything the parser throws means "not a URL".
/// </summary>
internal static class SafeUri
{
    /// <summary>Parses <paramref name="text"/> as a URI of <paramref name="kind"/>; false when it is not one.</summary>
    public static bool TryCreate(string? text, UriKind kind, [NotNullWhen(true)] out Uri? result) =>
        Guard(() => Uri.TryCreate(text, kind, out var uri) ? uri : null, out result);

    /// <summary>Resolves <paramref name="relative"/> against <paramref name="baseUri"/>; false when that fails.</summary>
    public static bool TryCreate(Uri baseUri, string? relative, [NotNullWhen(true)] out Uri? result) =>
        Guard(() => Uri.TryCreate(baseUri, relative, out var uri) ? uri : null, out result);

    /// <summary>Resolves <paramref name="relative"/> against <paramref name="baseUri"/>; false when that fails.</summary>
    public static bool TryCreate(Uri baseUri, Uri relative, [NotNullWhen(true)] out Uri? result) =>
        Guard(() => Uri.TryCreate(baseUri, relative, out var uri) ? uri : null, out result);

    private static bool Guard(Func<Uri?> parse, [NotNullWhen(true)] out Uri? result)
    {
        try
        {
            result = parse();
        }
        catch (Exception ex) when (ex is not (OutOfMemoryException or StackOverflowException))
        {
            result = null;
        }

        return result is not null;
    }
}
