using System.Text.Json;

namespace Ko.Engine.Sources;

/// <summary>Gives a source's failures their codes: malformed content KO3016, an I/O failure KO3017, each naming the source.</summary>
internal static class SourceErrors
{
    /// <summary>Runs <paramref name="read"/>, turning format and I/O exceptions into <see cref="KoException"/>s about <paramref name="name"/>.</summary>
    public static async Task<T> GuardAsync<T>(string name, Func<Task<T>> read)
    {
        try
        {
            return await read().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            throw new KoException(KoErrorCodes.SourceCorrupt, $"image source '{name}' is not valid: {ex.Message} Write it again (dotnet ko build, skopeo copy, docker save) and retry.", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new KoException(KoErrorCodes.SourceUnreadable, $"image source '{name}' cannot be read: {Util.SystemMessage.Of(ex)} Check the file and its permissions.", ex);
        }
    }
}
