namespace Ko.Engine.Signing;

/// <summary>What <see cref="KoEngine.GenerateKeyAsync"/> writes: a key pair as cosign's <c>generate-key-pair</c> does.</summary>
public sealed record KoGenerateKeyOptions
{
    /// <summary>Write <c>PREFIX.key</c> (encrypted, mode 0600) and <c>PREFIX.pub</c>; default <c>cosign</c>, as cosign. Relative to <see cref="WorkingDirectory"/>.</summary>
    public string OutputKeyPrefix { get; init; } = "cosign";

    /// <summary>
    /// Asked for the new key's password when the environment has no <c>KO_SIGN_PASSWORD</c> (a face prompts here); null,
    /// or a null answer, means no password can be had (KO5002). The password is never logged or stored.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? Password { get; init; }

    /// <summary>Where a relative prefix starts; null means the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The environment (<c>KO_SIGN_PASSWORD</c>); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}
