using System.Text;

namespace Ko.Engine.Registry;

/// <summary>
/// The one way a registry or token-service body is read into memory: at most a limit of bytes, and all of it
/// within <see cref="RegistryOptions.ResponseTimeout"/> (each read also under the idle timeout of the pipeline), so
/// neither an endless nor a trickling body can hold a run or grow its memory.
/// </summary>
internal static class ResponseBody
{
    /// <summary>Token-service answers (a JWT or two in JSON).</summary>
    public const int MaxTokenBytes = 1 << 20;

    /// <summary>One page of a tag list.</summary>
    public const int MaxTagListBytes = 8 << 20;

    /// <summary>What an error message quotes of an error body; the rest is not read.</summary>
    public const int MaxErrorBytes = 4096;

    /// <summary>
    /// The whole body, at most <paramref name="limit"/> bytes. Longer is <see cref="KoErrorCodes.ResponseTooLarge"/>;
    /// slower than the response timeout is <see cref="KoErrorCodes.RegistryTimeout"/>; a broken connection an
    /// <see cref="IOException"/> with a sentence. <paramref name="what"/> names the body ("the token service's answer").
    /// </summary>
    public static async Task<byte[]> ReadAsync(HttpResponseMessage response, int limit, RegistryOptions options, string what, CancellationToken cancellationToken)
    {
        var host = Host(response);
        if (response.Content.Headers.ContentLength is { } declared && declared > limit)
        {
            throw TooLarge(host, what, limit);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ResponseTimeout);
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                using var buffer = new MemoryStream();
                var chunk = new byte[16384];
                int read;
                while ((read = await stream.ReadAsync(chunk, deadline.Token).ConfigureAwait(false)) > 0)
                {
                    if (buffer.Length + read > limit)
                    {
                        throw TooLarge(host, what, limit);
                    }

                    buffer.Write(chunk, 0, read);
                }

                return buffer.ToArray();
            }
        }
        catch (OperationCanceledException ex) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new KoException(
                KoErrorCodes.RegistryTimeout,
                $"{host} did not send {what} (at most {limit} bytes) within {TimeoutHandler.Ms(options.ResponseTimeout)} ms. Check that it is up and reachable, or raise {RegistryOptions.ResponseTimeoutVariable} if it is just slow.",
                ex);
        }
    }

    /// <summary>The start of an error body as text for a message (at most <see cref="MaxErrorBytes"/>); empty when it cannot be read.</summary>
    public static async Task<string> ReadErrorTextAsync(HttpResponseMessage response, RegistryOptions options, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.ResponseTimeout);
        try
        {
            var stream = await response.Content.ReadAsStreamAsync(deadline.Token).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var buffer = new byte[MaxErrorBytes];
                var total = 0;
                int read;
                while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), deadline.Token).ConfigureAwait(false)) > 0)
                {
                    total += read;
                }

                return Encoding.UTF8.GetString(buffer, 0, total);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or KoException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // The status alone still says what went wrong.
            return string.Empty;
        }
    }

    /// <summary>The host (and port) that actually sent <paramref name="response"/>, after any redirect.</summary>
    public static string Host(HttpResponseMessage response) => response.RequestMessage?.RequestUri?.Authority ?? "the registry";

    private static KoException TooLarge(string host, string what, int limit) => new(
        KoErrorCodes.ResponseTooLarge,
        $"{host} sent {what} of more than {limit} bytes, the most ko reads into memory; the server is misbehaving (or is not a registry), so the read was stopped.");
}
