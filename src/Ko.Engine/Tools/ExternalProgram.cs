using System.ComponentModel;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;

using Ko.Engine.Util;

namespace Ko.Engine.Tools;

/// <summary>How to start one external program, and what to tell the user when it cannot be started.</summary>
/// <param name="Name">The tool's name for messages (<c>go</c>, <c>kubectl</c>, <c>podman</c>...).</param>
/// <param name="Path">The program to start.</param>
/// <param name="Arguments">Its arguments, each passed as one argument (no shell).</param>
/// <param name="Environment">Variables to set over the inherited ones (a null value removes one), as <see cref="ChildProcesses.ExactEnvironment"/> makes them.</param>
/// <param name="ErrorCode">The code for "the program cannot be run" (not found, not executable, another start failure).</param>
/// <param name="Advice">What to do when the program is missing or not executable, as a sentence.</param>
internal sealed record ProgramStart(string Name, string Path, IReadOnlyList<string> Arguments, IReadOnlyDictionary<string, string?> Environment, string ErrorCode, string Advice)
{
    /// <summary>The working directory; the current one when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Text written to the program's standard input (UTF-8), which is then closed; empty input when null.</summary>
    public string? StandardInput { get; init; }

    /// <summary>The most standard output read into memory; more stops the program and is an error (KO2008).</summary>
    public int MaxOutputBytes { get; init; } = 64 << 20;

    /// <summary>The most standard error kept; the rest is read and dropped.</summary>
    public int MaxErrorBytes { get; init; } = 1 << 20;

    /// <summary>Where the started process is recorded until it ends (so a later run can stop it if this one is killed).</summary>
    public ChildRegistry? Registry { get; init; }
}

/// <summary>What a program did: its exit code and its (bounded) output.</summary>
internal sealed record ProgramResult(int ExitCode, string StandardOutput, string StandardError);

/// <summary>
/// The one runner for external programs (go, kubectl, podman/docker, git, credential helpers): arguments are passed
/// as an array (no shell), output is read with a bound, a start failure is reported by its cause (missing, not
/// executable, E2BIG, other), and cancellation kills the program's whole process tree (CliWrap's forceful
/// cancellation: each process is stopped, its children listed, then all are killed) before the call returns.
/// </summary>
internal static class ExternalProgram
{
    private const int ENOENT = 2;
    private const int E2BIG = 7;

    /// <summary>
    /// The first <paramref name="name"/> (<c>name.exe</c> on Windows) in the directories of <paramref name="environment"/>'s
    /// <c>PATH</c> (the environment the program will run with, not necessarily the process's), or null.
    /// </summary>
    public static string? FindOnPath(string name, IReadOnlyDictionary<string, string?> environment)
    {
        var file = OperatingSystem.IsWindows() ? name + ".exe" : name;
        var path = environment.TryGetValue("PATH", out var p) ? p ?? string.Empty : string.Empty;
        return path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, file)).FirstOrDefault(File.Exists);
    }
    private const int ENOEXEC = 8;
    private const int EACCES = 13;

    /// <summary>Runs the program to its end; a non-zero exit code is returned, not thrown.</summary>
    /// <exception cref="KoException">The program cannot be started, or it wrote more output than allowed.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the program and its children are gone.</exception>
    public static async Task<ProgramResult> RunAsync(ProgramStart start, CancellationToken cancellationToken)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var stdout = new BoundedBuffer(start.MaxOutputBytes, stopWhenFull: stop);
        var stderr = new BoundedBuffer(start.MaxErrorBytes, stopWhenFull: null);
        var command = Cli.Wrap(start.Path)
            .WithArguments(start.Arguments)
            .WithEnvironmentVariables(start.Environment)
            .WithStandardInputPipe(start.StandardInput is null ? PipeSource.Null : PipeSource.FromString(start.StandardInput, Encoding.UTF8))
            .WithStandardOutputPipe(PipeTarget.Create(stdout.ReadAllAsync))
            .WithStandardErrorPipe(PipeTarget.Create(stderr.ReadAllAsync))
            .WithValidation(CommandResultValidation.None);
        if (start.WorkingDirectory is not null)
        {
            command = command.WithWorkingDirectory(start.WorkingDirectory);
        }

        IReadOnlyList<string> killed = [];
        try
        {
            var running = command.ExecuteAsync(stop.Token);
            // pid and start time: a pid that has ended and been reused by then is never killed.
            var identity = ChildRegistry.Identity(running.ProcessId);
            using (start.Registry?.Register(identity))
            using (stop.Token.Register(() => Volatile.Write(ref killed, ProcessTree.Kill(running.ProcessId, identity))))
            {
                var result = await running.ConfigureAwait(false);
                return new ProgramResult(result.ExitCode, stdout.Text(), stderr.Text());
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped: return only once the program and what it started are gone, not while they still write.
            await ProcessTree.WaitGoneAsync(Volatile.Read(ref killed)).ConfigureAwait(false);
            if (stdout.Overflowed && !cancellationToken.IsCancellationRequested)
            {
                throw new KoException(KoErrorCodes.ProgramOutputTooLarge, $"{start.Name} wrote more than {start.MaxOutputBytes >> 20} MiB of output, more than the engine reads; it was stopped. Check what {start.Name} was asked ({Summary(start.Arguments)}).");
            }

            throw;
        }
        catch (Win32Exception ex)
        {
            throw StartFailure(start, ex);
        }
    }

    /// <summary>The error for a program that could not be started, by the system's reason (errno).</summary>
    internal static KoException StartFailure(ProgramStart start, Win32Exception ex)
    {
        var errno = Errno(ex);
        switch (errno)
        {
            case E2BIG:
                return new KoException(KoErrorCodes.CommandLineTooLong, TooLarge(start), ex);
            case ENOENT when start.WorkingDirectory is not null && !Directory.Exists(start.WorkingDirectory):
                return new KoException(start.ErrorCode, $"could not run {start.Name}: the working directory {start.WorkingDirectory} does not exist.", ex);
            case ENOENT or EACCES or ENOEXEC or null:
                return new KoException(start.ErrorCode, $"could not run '{start.Path}': {SystemMessage(errno, ex)}. {start.Advice}", ex);
            default:
                return new KoException(start.ErrorCode, $"could not start {start.Name} ('{start.Path}'): {SystemMessage(errno, ex)}.", ex);
        }
    }

    private static string TooLarge(ProgramStart start)
    {
        var args = start.Arguments.Sum(a => Encoding.UTF8.GetByteCount(a) + 1);
        var env = EffectiveEnvironment(start.Environment);
        var envBytes = env.Sum(kv => Encoding.UTF8.GetByteCount(kv.Key) + Encoding.UTF8.GetByteCount(kv.Value) + 2);
        var largest = env.OrderByDescending(kv => kv.Value.Length).FirstOrDefault();
        var largestArg = start.Arguments.Count == 0 ? 0 : start.Arguments.Max(a => Encoding.UTF8.GetByteCount(a));
        var what = largest.Key is not null && Encoding.UTF8.GetByteCount(largest.Value) >= largestArg
            ? $"the largest is the variable {largest.Key} ({Encoding.UTF8.GetByteCount(largest.Value)} bytes)"
            : $"the longest argument has {largestArg} bytes";
        return $"could not start {start.Name}: its command line and environment are too large for the system (E2BIG, argument list too long): "
            + $"{start.Arguments.Count} argument(s) of {args} bytes and {env.Count} environment variable(s) of {envBytes} bytes; {what}. "
            + "Linux allows at most 128 KiB per argument or variable and about a quarter of the stack limit in all. "
            + "Pass fewer import paths per call, or remove large variables from the environment.";
    }

    /// <summary>The variables the program would have seen: this process's, then the given ones over them.</summary>
    private static Dictionary<string, string> EffectiveEnvironment(IReadOnlyDictionary<string, string?> overrides)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in System.Environment.GetEnvironmentVariables())
        {
            env[(string)e.Key] = (string?)e.Value ?? string.Empty;
        }

        foreach (var (k, v) in overrides)
        {
            if (v is null)
            {
                env.Remove(k);
            }
            else
            {
                env[k] = v;
            }
        }

        return env;
    }

    /// <summary>The errno behind a start failure (the innermost <see cref="Win32Exception"/> carries it), or null.</summary>
    private static int? Errno(Exception ex)
    {
        int? errno = null;
        for (Exception? e = ex; e is not null; e = e.InnerException)
        {
            if (e is Win32Exception w && w.NativeErrorCode != 0)
            {
                errno = w.NativeErrorCode;
            }
        }

        return errno;
    }

    private static string SystemMessage(int? errno, Win32Exception ex)
    {
        if (errno is { } n && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()))
        {
            var text = Marshal.GetPInvokeErrorMessage(n);
            if (!string.IsNullOrWhiteSpace(text) && !text.StartsWith("Unknown error", StringComparison.Ordinal))
            {
                return text.TrimEnd('.');
            }
        }

        var inner = ex.InnerException?.Message ?? ex.Message;
        return inner.TrimEnd('.');
    }

    private static string Summary(IReadOnlyList<string> args)
    {
        var text = string.Join(' ', args);
        return text.Length > 200 ? text[..200] + "…" : text;
    }

    /// <summary>Reads a stream to its end, keeping at most a bound; when full it drops the rest, or stops the program.</summary>
    private sealed class BoundedBuffer(int max, CancellationTokenSource? stopWhenFull)
    {
        private readonly MemoryStream _kept = new();

        public bool Overflowed { get; private set; }

        public bool Truncated { get; private set; }

        public async Task ReadAllAsync(Stream source, CancellationToken cancellationToken)
        {
            var buffer = new byte[81920];
            int read;
            while ((read = await source.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                var room = max - (int)_kept.Length;
                if (read > room)
                {
                    _kept.Write(buffer, 0, Math.Max(room, 0));
                    if (stopWhenFull is not null)
                    {
                        Overflowed = true;
                        await stopWhenFull.CancelAsync().ConfigureAwait(false);
                        return;
                    }

                    Truncated = true;
                    continue;
                }

                _kept.Write(buffer, 0, read);
            }
        }

        public string Text()
        {
            var text = Encoding.UTF8.GetString(_kept.GetBuffer(), 0, (int)_kept.Length);
            return Truncated ? text + "\n… (more output was dropped)" : text;
        }
    }
}
