namespace Cake.Ko;

/// <summary>The credentials <see cref="KoAliases.KoLogin(Cake.Core.ICakeContext, string, KoLoginSettings)"/> checks and stores.</summary>
public sealed class KoLoginSettings
{
    /// <summary>The user name.</summary>
    public string? Username { get; set; }

    /// <summary>The password or token; never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Plain HTTP and no TLS verification for the registry.</summary>
    public bool InsecureRegistry { get; set; }

    /// <summary>Variables added to (or, with a null value, removed from) the Cake context's environment, e.g. <c>DOCKER_CONFIG</c>.</summary>
    public IDictionary<string, string?> EnvironmentVariables { get; set; } = new Dictionary<string, string?>(StringComparer.Ordinal);

    /// <summary>Never shows the password.</summary>
    public override string ToString() => $"KoLoginSettings {{ Username = {Username}, Password = ***, InsecureRegistry = {InsecureRegistry} }}";
}
