namespace Ko.Engine.Signing;

/// <summary>The outcome of <see cref="KoEngine.GenerateKeyAsync"/>: where the key pair was written.</summary>
/// <param name="PrivateKeyPath">The encrypted private key (cosign's <c>ENCRYPTED SIGSTORE PRIVATE KEY</c>), mode 0600.</param>
/// <param name="PublicKeyPath">The public key (PEM <c>PUBLIC KEY</c>), for <c>verify --key</c> and containers/image's <c>keyPath</c>.</param>
public sealed record KoKeyPair(string PrivateKeyPath, string PublicKeyPath);
