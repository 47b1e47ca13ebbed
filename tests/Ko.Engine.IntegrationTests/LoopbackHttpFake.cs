using System.Net;

namespace Ko.Engine.IntegrationTests;

/// <summary>
/// What every FAKE HTTP server of these tests shares (for what nothing real runs here: a Kubernetes API server, a
/// registry with the OCI 1.1 referrers API): an <see cref="HttpListener"/> on a free loopback port, a request loop that
/// ends when the listener stops, each response closed after its handler, and a bounded wait for the loop on dispose.
/// </summary>
public abstract class LoopbackHttpFake : IDisposable
{
    private readonly HttpListener _listener = new();
    private Task _loop = Task.CompletedTask;

    /// <summary>The port listened on.</summary>
    public int Port { get; private set; }

    /// <summary>The base URL, <c>http://127.0.0.1:PORT</c>.</summary>
    public string Server => $"http://127.0.0.1:{Port}";

    /// <summary>The registry-style host, <c>127.0.0.1:PORT</c>.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public void Dispose()
    {
        // Close alone: Stop then Close unregisters the prefix twice, and the second time .NET's managed listener
        // binds the freed port again to look it up ("Address already in use" when another test has taken it).
        _listener.Close();
        try
        {
            _loop.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>Listens on a free port (another test may take the one offered first: then the next) and starts serving.</summary>
    protected void Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = KoAddins.TestSupport.RegistryServer.FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"{Server}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }

        _loop = Task.Run(LoopAsync);
    }

    /// <summary>Answers one request.</summary>
    /// <param name="context">The request and its response.</param>
    protected abstract Task HandleAsync(HttpListenerContext context);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            try
            {
                await HandleAsync(context);
            }
            catch (Exception ex) when (ex is HttpListenerException or IOException)
            {
                // The client went away.
            }
            finally
            {
                context.Response.Close();
            }
        }
    }
}
