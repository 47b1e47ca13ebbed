namespace Ko.Engine.Signing;

/// <summary>What <see cref="KoEngine.VerifyAsync"/> checks: cosign signatures of images in a registry, with a public key.</summary>
public sealed record KoVerifyOptions
{
    /// <summary>The images to verify, by tag or digest.</summary>
    public required IReadOnlyList<string> References { get; init; }

    /// <summary>The public key file (PEM <c>PUBLIC KEY</c>, e.g. <c>cosign.pub</c>). Relative to <see cref="WorkingDirectory"/>.</summary>
    public required string Key { get; init; }

    /// <summary>Also require a signed in-toto attestation (<c>.att</c>) about each image.</summary>
    public bool Attestations { get; init; }

    /// <summary>Plain HTTP and no TLS verification for the registries.</summary>
    public bool InsecureRegistry { get; init; }

    /// <summary>Where a relative key path starts; null means the current directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>The environment (<c>DOCKER_CONFIG</c>, registry timeouts…); null means the process's.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }
}
