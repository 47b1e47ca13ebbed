using Ko.Engine.Configuration;
using Ko.Engine.Registry;
using Ko.Engine.Registry.Credentials;

namespace Ko.Engine;

public sealed partial class KoEngine
{
    /// <summary>
    /// Checks credentials against a registry and stores them as <c>docker login</c> does: in the credential store
    /// that config.json names, else in config.json's <c>auths</c>. Returns where they were stored.
    /// </summary>
    /// <param name="options">The registry, user and password.</param>
    /// <param name="cancellationToken">Cancels the check.</param>
    /// <exception cref="KoException"><c>KO3004</c> when the registry refuses the credentials.</exception>
    public Task<string> LoginAsync(KoLoginOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var environment = options.Environment ?? BuildPlan.ProcessEnvironment();
        var registry = new RegistryOptions
        {
            Insecure = options.InsecureRegistry,
            Environment = environment,
            Logger = _logger,
        };
        return RegistryLogin.LoginAsync(options.Registry, options.Username, options.Password, registry, cancellationToken);
    }
}
