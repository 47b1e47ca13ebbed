using Cake.Core.Diagnostics;
using Ko.Engine;
using Microsoft.Extensions.Logging;
using CakeLogLevel = Cake.Core.Diagnostics.LogLevel;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace Cake.Ko;

/// <summary>The engine's <see cref="ILogger"/> written to Cake's <see cref="ICakeLog"/> at the matching verbosity.</summary>
internal sealed class CakeKoLogger(ICakeLog log) : ILogger, IProgress<KoProgress>
{
    public static (Verbosity Verbosity, CakeLogLevel Level) Map(MsLogLevel level) => level switch
    {
        MsLogLevel.Trace => (Verbosity.Diagnostic, CakeLogLevel.Debug),
        MsLogLevel.Debug => (Verbosity.Verbose, CakeLogLevel.Verbose),
        MsLogLevel.Information => (Verbosity.Normal, CakeLogLevel.Information),
        MsLogLevel.Warning => (Verbosity.Minimal, CakeLogLevel.Warning),
        MsLogLevel.Error => (Verbosity.Quiet, CakeLogLevel.Error),
        _ => (Verbosity.Quiet, CakeLogLevel.Fatal),
    };

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(MsLogLevel logLevel) => logLevel != MsLogLevel.None && log.Verbosity >= Map(logLevel).Verbosity;

    public void Log<TState>(MsLogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var (verbosity, level) = Map(logLevel);
        var message = formatter(state, exception);
        if (exception is not null && exception is not KoException)
        {
            message += Environment.NewLine + exception.Message;
        }

        // The message is data, never a format string: braces in it stay as they are.
        log.Write(verbosity, level, "{0}", message);
    }

    /// <summary>Progress goes to the diagnostic log (per-blob upload bytes are left out: too many).</summary>
    public void Report(KoProgress value)
    {
        if (value.Stage != "upload" && log.Verbosity >= Verbosity.Diagnostic)
        {
            log.Write(Verbosity.Diagnostic, CakeLogLevel.Debug, "{0}", $"ko {value.Stage}: {value.Subject} {value.Completed}/{value.Total?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}");
        }
    }
}
