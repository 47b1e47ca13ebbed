namespace Ko.Engine.Registry;

/// <summary>
/// Answers registry challenges: Basic, and the Bearer token flow with a token cache by scope. (Being written:
/// until then requests go out anonymously.)
/// </summary>
internal sealed class AuthHandler(string host, RegistryOptions options) : DelegatingHandler
{
    internal string Host { get; } = host;

    internal RegistryOptions Options { get; } = options;
}
