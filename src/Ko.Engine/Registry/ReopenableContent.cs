using System.Net;

namespace Ko.Engine.Registry;

/// <summary>
/// Request content that opens a fresh stream every time it is sent, so a retried or redirected upload sends the
/// whole body again without holding it in memory. With a progress sink it reports the bytes sent so far (stage
/// <c>upload</c>, <see cref="KoProgress.Completed"/> bytes of <see cref="KoProgress.Total"/> = the length), at most
/// every <see cref="ReportInterval"/> and always once the body is complete; a resend starts again from 0.
/// </summary>
internal sealed class ReopenableContent : HttpContent
{
    /// <summary>The least time between two reports of one body (the last one is always reported).</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromMilliseconds(100);

    private const int BufferSize = 1 << 16;

    private readonly Func<CancellationToken, ValueTask<Stream>> _open;
    private readonly long _length;
    private readonly IProgress<KoProgress>? _progress;
    private readonly string _subject;

    /// <summary>Creates the content.</summary>
    /// <param name="open">Opens the body from its start; called once per send.</param>
    /// <param name="length">The body's length in bytes.</param>
    /// <param name="progress">Where bytes sent are reported; none when null.</param>
    /// <param name="subject">What the reports name, e.g. the blob digest.</param>
    public ReopenableContent(Func<CancellationToken, ValueTask<Stream>> open, long length, IProgress<KoProgress>? progress = null, string? subject = null)
    {
        _open = open;
        _length = length;
        _progress = progress;
        _subject = subject ?? string.Empty;
        Headers.ContentLength = length;
    }

    /// <summary>The stage progress reports carry.</summary>
    public const string Stage = "upload";

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken)
    {
        var source = await _open(cancellationToken).ConfigureAwait(false);
        await using (source.ConfigureAwait(false))
        {
            if (_progress is null)
            {
                await source.CopyToAsync(stream, BufferSize, cancellationToken).ConfigureAwait(false);
                return;
            }

            var buffer = new byte[BufferSize];
            long sent = 0;
            var last = System.Diagnostics.Stopwatch.StartNew();
            _progress.Report(new KoProgress(Stage, _subject, 0, _length));
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                sent += read;
                if (last.Elapsed >= ReportInterval && sent < _length)
                {
                    _progress.Report(new KoProgress(Stage, _subject, sent, _length));
                    last.Restart();
                }
            }

            _progress.Report(new KoProgress(Stage, _subject, sent, _length));
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = _length;
        return true;
    }
}
