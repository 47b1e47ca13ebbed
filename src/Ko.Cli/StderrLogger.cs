using Microsoft.Extensions.Logging;

namespace Ko.Cli;

/// <summary>Writes log lines to standard error, so standard output carries only references.</summary>
internal sealed class StderrLogger(TextWriter error, LogLevel minimum) : ILogger
{
    private readonly Lock _lock = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var prefix = logLevel switch
        {
            LogLevel.Trace or LogLevel.Debug => "debug: ",
            LogLevel.Warning => "warning: ",
            LogLevel.Error or LogLevel.Critical => "error: ",
            _ => string.Empty,
        };
        var line = prefix + formatter(state, exception);
        lock (_lock)
        {
            error.WriteLine(line);
        }
    }
}
