using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Serilog;
using Serilog.Core;
using Serilog.Events;

namespace Nuke.Ko.Tests;

/// <summary>Finds the real tools the tests use, and fails loudly when one is missing.</summary>
public static class Tools
{
    public static string Require(string name) => ToolPath.Require(name);

    /// <summary>Runs a tool to completion (bounded by a timeout) and returns its standard output as bytes.</summary>
    public static async Task<byte[]> RunAsync(string tool, params string[] args)
    {
        var start = new ProcessStartInfo(Require(tool)) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{tool} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        using var stdout = new MemoryStream();
        var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout, timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        await copy;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} exited {process.ExitCode}:\n{await stderr}");
        }

        return stdout.ToArray();
    }
}


/// <summary>The repository's examples/hello, copied so tests can add packages to it.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string CopyHello(string destination)
    {
        var source = Path.Combine(Root, "examples", "hello");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(destination, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }

        return destination;
    }

    private static string FindRoot([System.Runtime.CompilerServices.CallerFilePath] string sourceFile = "")
    {
        foreach (var start in new[] { Path.GetDirectoryName(sourceFile), AppContext.BaseDirectory })
        {
            var dir = string.IsNullOrEmpty(start) ? null : new DirectoryInfo(start);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "KoAddins.sln")))
            {
                dir = dir.Parent;
            }

            if (dir is not null)
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("cannot find the repository root (KoAddins.sln) above " + sourceFile);
    }
}

/// <summary>
/// An in-memory Serilog sink behind the static <see cref="Log"/>, as a NUKE build configures it. Events go to the
/// capture of the async flow that logged them, so tests running in parallel each see only their own.
/// </summary>
public sealed class InMemorySink : ILogEventSink
{
    private static readonly AsyncLocal<List<LogEvent>?> Current = new();
    private static readonly Lock Gate = new();

    static InMemorySink()
    {
        Log.Logger = new LoggerConfiguration().MinimumLevel.Verbose().WriteTo.Sink(new InMemorySink()).CreateLogger();
    }

    /// <summary>Starts capturing this async flow's events (and those of the tasks it starts).</summary>
    public static List<LogEvent> Capture()
    {
        var events = new List<LogEvent>();
        Current.Value = events;
        return events;
    }

    public static IReadOnlyList<LogEvent> Snapshot(List<LogEvent> events)
    {
        lock (Gate)
        {
            return events.ToList();
        }
    }

    public void Emit(LogEvent logEvent)
    {
        if (Current.Value is { } events)
        {
            lock (Gate)
            {
                events.Add(logEvent);
            }
        }
    }
}

