using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Cake.Ko.Tests;

/// <summary>Finds the real tools the tests use, and fails loudly when one is missing.</summary>
public static class Tools
{
    public static string Require(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(':', StringSplitOptions.RemoveEmptyEntries).Concat(["/usr/sbin", "/usr/bin", "/sbin", "/usr/share/dotnet"]))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException($"prerequisite '{name}' is not installed: run ./test.sh, which installs go, docker-registry and skopeo.");
    }
}

/// <summary>
/// A real <c>docker-registry</c> on a free loopback port, plain HTTP, no auth, storage in a temp directory
/// (a copy of the integration tests' fixture: a different project).
/// </summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("cake-ko-registry-").FullName;
    private Process? _process;

    public int Port { get; private set; }

    /// <summary><c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    public async Task InitializeAsync()
    {
        var registry = Tools.Require("docker-registry");
        Port = FreePort();
        var storage = Path.Combine(_dir, "storage");
        Directory.CreateDirectory(storage);
        var config = Path.Combine(_dir, "config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{Port}\nlog:\n  level: error\n");
        var start = new ProcessStartInfo(registry)
        {
            ArgumentList = { "serve", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("docker-registry did not start");
        var stderr = new System.Text.StringBuilder();
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (stderr)
            {
                stderr.AppendLine(e.Data);
            }
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync($"http://{Host}/v2/");
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        string log;
        lock (stderr)
        {
            log = stderr.ToString();
        }

        await DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not answer GET http://{Host}/v2/ with 200 within 10 s:\n{log}");
    }

    public async Task DisposeAsync()
    {
        if (_process is not null)
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill(entireProcessTree: true);
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                    await _process.WaitForExitAsync(timeout.Token);
                }
            }
            catch (InvalidOperationException)
            {
            }
            catch (OperationCanceledException)
            {
            }

            _process.Dispose();
            _process = null;
        }

        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
