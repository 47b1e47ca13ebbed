using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ko.Engine;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Ko.Cli;

/// <summary>
/// Shows the engine's <see cref="KoProgress"/> on standard error, never on standard output (which carries only
/// references). On a terminal (standard error not redirected, <c>CI</c> not <c>true</c>, <c>TERM</c> not
/// <c>dumb</c>) it draws Spectre.Console progress bars, one per build, layer, output, load and blob upload, with
/// log lines printed above them. Otherwise (CI, files, pipes) it writes plain log lines: one per finished blob
/// upload with <c>-v</c>, and one summary of the bytes sent per pushed image.
/// </summary>
internal abstract class ProgressDisplay : IProgress<KoProgress>
{
    /// <summary>The logger to give the engine; on a terminal its lines go through the live display.</summary>
    public abstract ILogger Logger { get; }

    /// <summary>Chooses the display for <paramref name="error"/>: bars on a terminal, plain lines otherwise.</summary>
    /// <param name="error">Where logs and progress go (the process's standard error, or a test's writer).</param>
    /// <param name="verbose">Debug logs and one line per uploaded blob.</param>
    /// <param name="environment">The environment (<c>CI</c>, <c>TERM</c>); null means the process's.</param>
    public static ProgressDisplay Create(TextWriter error, bool verbose, IReadOnlyDictionary<string, string?>? environment)
    {
        ArgumentNullException.ThrowIfNull(error);
        string? Env(string name) => environment is null ? System.Environment.GetEnvironmentVariable(name) : environment.GetValueOrDefault(name);
        var terminal = ReferenceEquals(error, Console.Error)
            && !Console.IsErrorRedirected
            && !string.Equals(Env("CI"), "true", StringComparison.OrdinalIgnoreCase)
            && !string.Equals(Env("TERM"), "dumb", StringComparison.Ordinal);
        return terminal ? new Bars(error, verbose) : new Plain(error, verbose);
    }

    /// <summary>Runs <paramref name="work"/> while the display is live.</summary>
    public abstract Task<T> RunAsync<T>(Func<Task<T>> work);

    /// <inheritdoc />
    public abstract void Report(KoProgress value);

    internal static string Bytes(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.00} GiB"),
    };

    /// <summary>Plain lines for logs and CI: no cursor movement, nothing but whole lines.</summary>
    internal sealed class Plain(TextWriter error, bool verbose) : ProgressDisplay
    {
        private readonly StderrLogger _logger = new(error, verbose ? LogLevel.Debug : LogLevel.Information);
        private readonly ConcurrentDictionary<string, Stopwatch> _started = new(StringComparer.Ordinal);
        private long _bytes;
        private int _blobs;
        private long _firstUpload;

        public override ILogger Logger => _logger;

        public override Task<T> RunAsync<T>(Func<Task<T>> work) => work();

        public override void Report(KoProgress value)
        {
            ArgumentNullException.ThrowIfNull(value);
            switch (value.Stage)
            {
                case "upload" when value.Completed == 0:
                    _started[value.Subject] = Stopwatch.StartNew();
                    Interlocked.CompareExchange(ref _firstUpload, Stopwatch.GetTimestamp(), 0);
                    break;
                case "upload" when value.Total is { } total && value.Completed >= total:
                    Interlocked.Add(ref _bytes, total);
                    Interlocked.Increment(ref _blobs);
                    if (verbose)
                    {
                        var ms = _started.TryRemove(value.Subject, out var watch) ? watch.ElapsedMilliseconds : 0;
                        _logger.LogInformation("uploaded {Digest} ({Bytes} bytes in {Elapsed} ms)", value.Subject, total, ms);
                    }

                    break;
                case "push":
                    // Images are pushed one after another, so the uploads since the last image are this one's.
                    var bytes = Interlocked.Exchange(ref _bytes, 0);
                    var blobs = Interlocked.Exchange(ref _blobs, 0);
                    var first = Interlocked.Exchange(ref _firstUpload, 0);
                    var seconds = first == 0 ? 0 : Stopwatch.GetElapsedTime(first).TotalSeconds;
                    var sboms = value.Completed - 1;
                    var what = sboms > 0 ? $"{value.Subject} and its {sboms} SBOM artifact(s)" : value.Subject;
                    _logger.LogInformation("Sent {Size} in {Blobs} blob upload(s) for {Name} ({Seconds} s)", Bytes(bytes), blobs, what, seconds.ToString("0.00", CultureInfo.InvariantCulture));
                    break;
            }
        }
    }

    /// <summary>Spectre.Console bars on a terminal; log lines are printed above them.</summary>
    internal sealed class Bars : ProgressDisplay
    {
        private readonly IAnsiConsole _console;
        private readonly StderrLogger _logger;
        private readonly ConcurrentDictionary<(string Stage, string Subject), ProgressTask> _tasks = new();
        private ProgressContext? _context;

        public Bars(TextWriter error, bool verbose, IAnsiConsole? console = null)
        {
            _console = console ?? AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(error) });
            _logger = new StderrLogger(new ConsoleLineWriter(_console), verbose ? LogLevel.Debug : LogLevel.Information);
        }

        public override ILogger Logger => _logger;

        public override Task<T> RunAsync<T>(Func<Task<T>> work) =>
            _console.Progress()
                .AutoClear(false)
                .HideCompleted(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .StartAsync(async ctx =>
                {
                    Volatile.Write(ref _context, ctx);
                    try
                    {
                        return await work().ConfigureAwait(false);
                    }
                    finally
                    {
                        Volatile.Write(ref _context, null);
                    }
                });

        public override void Report(KoProgress value)
        {
            ArgumentNullException.ThrowIfNull(value);
            var ctx = Volatile.Read(ref _context);
            if (ctx is null)
            {
                return;
            }

            var total = Math.Max(1, value.Total ?? 1);
            var task = _tasks.GetOrAdd((value.Stage, value.Subject), key => ctx.AddTask(Markup.Escape(Describe(key.Stage, key.Subject, value.Total)), autoStart: true, maxValue: total));
            task.MaxValue = total;
            task.Value = Math.Min(value.Completed, total);
            if (value.Completed >= total)
            {
                task.StopTask();
            }
        }

        private static string Describe(string stage, string subject, long? total) => stage switch
        {
            "upload" => $"upload {(subject.Length > 19 ? subject[..19] + "…" : subject)} ({Bytes(total ?? 0)})",
            _ => $"{stage} {subject}",
        };
    }

    /// <summary>A writer whose lines go to a Spectre console, which keeps them above a live display.</summary>
    private sealed class ConsoleLineWriter(IAnsiConsole console) : TextWriter
    {
        private readonly StringBuilder _pending = new();

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            if (value == '\n')
            {
                EmitLine();
            }
            else if (value != '\r')
            {
                _pending.Append(value);
            }
        }

        public override void WriteLine(string? value)
        {
            _pending.Append(value);
            EmitLine();
        }

        public override void Flush()
        {
            if (_pending.Length > 0)
            {
                EmitLine();
            }
        }

        private void EmitLine()
        {
            var line = _pending.ToString();
            _pending.Clear();
            console.WriteLine(line);
        }
    }
}
