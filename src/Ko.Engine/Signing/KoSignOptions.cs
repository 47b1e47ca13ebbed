namespace Ko.Engine.Signing;

/// <summary>What <see cref="KoEngine.SignAsync"/> signs: images already in a registry, as cosign's <c>sign --key</c> (and <c>attest</c>).</summary>
public sealed record KoSignOptions
{
    /// <summary>The images to sign, by tag or digest (<c>registry/repository:tag</c> or <c>@sha256:…</c>).</summary>
    public required IReadOnlyList<string> References { get; init; }

    /// <summary>
    /// The private key file: cosign's encrypted format (password from <c>KO_SIGN_PASSWORD</c>, else <see cref="Password"/>)
    /// or a PKCS#8 / EC PEM ECDSA P-256 key. Null means <c>KO_SIGN_KEY</c>. Relative to <see cref="WorkingDirectory"/>.
    /// </summary>
    public string? Key { get; init; }

    /// <summary>Asked for an encrypted key's password when the environment has no <c>KO_SIGN_PASSWORD</c>; null never asks.</summary>
    public Func<CancellationToken, ValueTask<string?>>? Password { get; init; }

    /// <summary>Written into each signature payload's <c>optional</c> section (<c>--sign-annotation k=v</c>); <c>timestamp</c> is refused (KO5005).</summary>
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();

    /// <summary>For an index, also sign each platform image in it.</summary>
    public bool Recursive { get; init; }

    /// <summary>Also attest each SBOM attached to each signed manifest as a signed in-toto statement (<c>.att</c>); none attached is KO5013.</summary>
    public bool AttestSbom { get; init; }

    /// <summary>Plain HTTP and no TLS verification for the registries.</summary>
    public bool InsecureRegistry { get; init; }

    /// <summary>Where a relative key path starts; null means the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The environment (<c>KO_SIGN_KEY</c>, <c>KO_SIGN_PASSWORD</c>, <c>DOCKER_CONFIG</c>, registry timeouts…); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}
