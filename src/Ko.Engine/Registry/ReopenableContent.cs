using System.Net;

namespace Ko.Engine.Registry;

/// <summary>
/// Request content that opens a fresh stream every time it is sent, so a retried or redirected upload sends the
/// whole body again without holding it in memory.
/// </summary>
internal sealed class ReopenableContent : HttpContent
{
    private readonly Func<CancellationToken, ValueTask<Stream>> _open;
    private readonly long _length;

    public ReopenableContent(Func<CancellationToken, ValueTask<Stream>> open, long length)
    {
        _open = open;
        _length = length;
        Headers.ContentLength = length;
    }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await _open(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            await source.CopyToAsync(stream, 1 << 16, cancellationToken).ConfigureAwait(false);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
