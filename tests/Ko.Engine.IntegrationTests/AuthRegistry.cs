using System.Diagnostics;
using System.Net;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// A real <c>docker-registry</c> on a free loopback port with extra configuration (TLS, htpasswd or token auth),
/// storage in a temp directory. Ready once <c>/v2/</c> answers at all (401 included).
/// </summary>
public sealed class AuthRegistry : IAsyncDisposable
{
    private readonly TempDir _dir = new("ko-authreg");
    private Process? _process;

    private AuthRegistry()
    {
    }

    public int Port { get; private set; }

    public string Host => $"127.0.0.1:{Port}";

    /// <summary>Starts the registry; <paramref name="extraConfig"/> is YAML appended to the config (the http section is made here).</summary>
    public static async Task<AuthRegistry> StartAsync(string? tlsCert, string? tlsKey, string extraConfig)
    {
        var registry = new AuthRegistry();
        await registry.InitializeAsync(tlsCert, tlsKey, extraConfig);
        return registry;
    }

    private async Task InitializeAsync(string? tlsCert, string? tlsKey, string extraConfig)
    {
        var binary = Tools.Require("docker-registry");
        Port = RegistryFixture.FreePort();
        var storage = _dir.Combine("storage");
        Directory.CreateDirectory(storage);
        var tls = tlsCert is null ? string.Empty : $"  tls:\n    certificate: {tlsCert}\n    key: {tlsKey}\n";
        var config = _dir.Combine("config.yml");
        await File.WriteAllTextAsync(config, $"version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: {storage}\nhttp:\n  addr: 127.0.0.1:{Port}\n{tls}log:\n  level: error\n{extraConfig}");
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

        _dir.Dispose();
    }
}
