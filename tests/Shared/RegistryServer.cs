using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace KoAddins.TestSupport;

/// <summary>
/// A real <c>docker-registry</c> (the CNCF distribution server from Debian) on a free loopback port, storage in a
/// temp directory, optionally with TLS and extra configuration (htpasswd or token auth). Shared by every test
/// project (linked, not copied). Ready once <c>/v2/</c> answers at all (401 included); killed with its process
/// tree on dispose.
/// </summary>
public sealed class RegistryServer : IAsyncDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"ko-registry-{Guid.NewGuid():N}");
    private Process? _process;

    private RegistryServer()
    {
    }

    public int Port { get; private set; }

    /// <summary>Where the registry keeps its files (config and storage), for tests that inspect every byte it stored.</summary>
    public string DataDirectory => _dir;

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

    /// <summary>Starts the registry; <paramref name="extraConfig"/> is YAML appended to the config (the http section is made here).</summary>
    public static async Task<RegistryServer> StartAsync(string? tlsCert = null, string? tlsKey = null, string extraConfig = "")
    {
        var server = new RegistryServer();
        await server.InitializeAsync(tlsCert, tlsKey, extraConfig);
        return server;
    }


    private async Task InitializeAsync(string? tlsCert, string? tlsKey, string extraConfig)
    {
        var binary = ToolPath.Require("docker-registry");
        Port = FreePort();
        var storage = Path.Combine(_dir, "storage");
        Directory.CreateDirectory(storage);
        var tls = tlsCert is null ? string.Empty : $"  tls:\n    certificate: {tlsCert}\n    key: {tlsKey}\n";
        var config = Path.Combine(_dir, "config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{Port}\n{tls}log:\n  level: error\n{extraConfig}");
        _process = Process.Start(new ProcessStartInfo(binary)
        {
            ArgumentList = { "serve", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("docker-registry did not start");
        var log = new System.Text.StringBuilder();
        _process.ErrorDataReceived += (_, e) =>
        {
            lock (log)
            {
                log.AppendLine(e.Data);
            }
        };
        _process.OutputDataReceived += (_, _) => { };
        _process.BeginErrorReadLine();
        _process.BeginOutputReadLine();

        using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true };
        using var http = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var url = $"{(tlsCert is null ? "http" : "https")}://{Host}/v2/";
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(10) && !_process.HasExited)
        {
            try
            {
                using var response = await http.GetAsync(url);
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
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

        string text;
        lock (log)
        {
            text = log.ToString();
        }

        await DisposeAsync();
        throw new InvalidOperationException($"docker-registry did not answer {url} within 10 s:\n{text}");
    }

    public async ValueTask DisposeAsync()
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
        catch (UnauthorizedAccessException)
        {
        }
    }
}

/// <summary>An xunit class fixture: one plain-HTTP, no-auth <see cref="RegistryServer"/> for a test class.</summary>
public sealed class RegistryFixture : IAsyncLifetime
{
    private RegistryServer? _server;

    public int Port => Server.Port;

    /// <summary><c>127.0.0.1:PORT</c>.</summary>
    public string Host => Server.Host;

    /// <summary>Where the registry keeps its files.</summary>
    public string DataDirectory => Server.DataDirectory;

    private RegistryServer Server => _server ?? throw new InvalidOperationException("the registry has not started");

    public static int FreePort() => RegistryServer.FreePort();

    public async Task InitializeAsync() => _server = await RegistryServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
