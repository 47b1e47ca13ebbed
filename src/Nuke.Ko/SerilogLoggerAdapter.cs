using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;

namespace Nuke.Ko;

/// <summary>
/// The engine's <see cref="Microsoft.Extensions.Logging.ILogger"/> written to Serilog's static <see cref="Log"/> (which
/// NUKE configures), keeping the engine's message template and its properties (<c>{Reference}</c>, <c>{Digest}</c>...)
/// so the events stay structured.
/// </summary>
internal sealed class SerilogLoggerAdapter : Microsoft.Extensions.Logging.ILogger
{
    private const string OriginalFormat = "{OriginalFormat}";

    /// <summary>The SourceContext of every event, so a build can filter or raise Ko's level.</summary>
    public const string SourceContext = "Nuke.Ko";

    // Read on every call: a build (or a test) may replace Log.Logger after the tasks were first used.
    private static Serilog.ILogger Target => Serilog.Log.Logger.ForContext(Serilog.Core.Constants.SourceContextPropertyName, SourceContext);

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && Serilog.Log.Logger.IsEnabled(Map(logLevel));

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        ArgumentNullException.ThrowIfNull(formatter);
        var level = Map(logLevel);
        if (state is IReadOnlyList<KeyValuePair<string, object?>> values && values.Count > 0 && values[^1].Key == OriginalFormat && values[^1].Value is string template)
        {
            // Microsoft's FormattedLogValues lists the template's holes in order, then the template itself:
            // Serilog binds positional values to the template's property tokens in that same order.
            var arguments = new object?[values.Count - 1];
            for (var i = 0; i < arguments.Length; i++)
            {
                arguments[i] = values[i].Value;
            }

            Target.Write(level, exception, template, arguments);
            return;
        }

        Target.Write(level, exception, "{Message:l}", formatter(state, exception));
    }

    internal static LogEventLevel Map(LogLevel level) => level switch
    {
        LogLevel.Trace => LogEventLevel.Verbose,
        LogLevel.Debug => LogEventLevel.Debug,
        LogLevel.Information => LogEventLevel.Information,
        LogLevel.Warning => LogEventLevel.Warning,
        LogLevel.Error => LogEventLevel.Error,
        _ => LogEventLevel.Fatal,
    };
}
