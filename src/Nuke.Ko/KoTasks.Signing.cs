namespace Nuke.Ko;

public static partial class KoTasks
{
    /// <summary>
    /// Signs images already in a registry in cosign's format (<c>dotnet ko sign</c>); to sign what a build pushes, use
    /// <c>KoBuild(_ => _.SetSignKey(...))</c> instead.
    /// </summary>
    /// <param name="toolSettings">The images, the key and what to sign.</param>
    /// <returns>Each signature and attestation made or already there.</returns>
    /// <exception cref="KoTaskException">KO5001/KO5002 for the key, KO5010 for a signature tag that is not cosign's, KO5013 with nothing to attest, or a registry failure.</exception>
    /// <example><code>var signed = KoTasks.KoSign(_ => _.SetReferences(image.Reference).SetKey("cosign.key"));</code></example>
    public static KoSignResult KoSign(KoSignSettings toolSettings) => Sync(() => KoSignAsync(toolSettings));

    /// <summary>Signs images, configured fluently: <c>KoSign(_ => _.SetReferences(image.Reference).SetKey("cosign.key"))</c>.</summary>
    /// <param name="configurator">Sets the images and the key.</param>
    /// <returns>Each signature and attestation made or already there.</returns>
    /// <exception cref="KoTaskException">The key, a signature tag or the registry failed.</exception>
    /// <example><code>var signed = KoTasks.KoSign(_ => _.SetReferences(image.Reference).SetKey("cosign.key"));</code></example>
    public static KoSignResult KoSign(Func<KoSignSettings, KoSignSettings> configurator) => Sync(() => KoSignAsync(configurator));

    /// <summary>Async twin of <see cref="KoSign(KoSignSettings)"/>.</summary>
    /// <param name="toolSettings">The images, the key and what to sign.</param>
    /// <param name="cancellationToken">Cancels the signing.</param>
    /// <returns>Each signature and attestation made or already there.</returns>
    /// <exception cref="KoTaskException">The key, a signature tag or the registry failed.</exception>
    /// <example><code>var signed = await KoTasks.KoSignAsync(_ => _.SetReferences(image.Reference).SetKey("cosign.key"));</code></example>
    public static Task<KoSignResult> KoSignAsync(KoSignSettings toolSettings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(toolSettings);
        return RunAsync(nameof(KoSign), toolSettings, async (engine, ct) => (await engine.SignAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoSign(Func{KoSignSettings, KoSignSettings})"/>.</summary>
    /// <param name="configurator">Sets the images and the key.</param>
    /// <param name="cancellationToken">Cancels the signing.</param>
    /// <returns>Each signature and attestation made or already there.</returns>
    /// <exception cref="KoTaskException">The key, a signature tag or the registry failed.</exception>
    /// <example><code>var signed = await KoTasks.KoSignAsync(_ => _.SetReferences(image.Reference).SetKey("cosign.key"));</code></example>
    public static Task<KoSignResult> KoSignAsync(Func<KoSignSettings, KoSignSettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoSignAsync(configurator(new KoSignSettings()), cancellationToken);
    }

    /// <summary>
    /// Verifies the cosign signatures of images with a public key (<c>dotnet ko verify</c>): the task fails when an image
    /// has no signature made with the key for its digest and repository.
    /// </summary>
    /// <param name="toolSettings">The images and the public key.</param>
    /// <returns>The verified images.</returns>
    /// <exception cref="KoTaskException">KO5006 no signature, KO5007 wrong key, KO5008 digest, KO5009 repository, KO5011/KO5012 attestations.</exception>
    /// <example><code>KoTasks.KoVerify(_ => _.SetReferences(image.Reference).SetKey("cosign.pub"));</code></example>
    public static KoVerifyResult KoVerify(KoVerifySettings toolSettings) => Sync(() => KoVerifyAsync(toolSettings));

    /// <summary>Verifies signatures, configured fluently: <c>KoVerify(_ => _.SetReferences(image.Reference).SetKey("cosign.pub"))</c>.</summary>
    /// <param name="configurator">Sets the images and the public key.</param>
    /// <returns>The verified images.</returns>
    /// <exception cref="KoTaskException">A signature is missing or does not verify.</exception>
    /// <example><code>KoTasks.KoVerify(_ => _.SetReferences(image.Reference).SetKey("cosign.pub"));</code></example>
    public static KoVerifyResult KoVerify(Func<KoVerifySettings, KoVerifySettings> configurator) => Sync(() => KoVerifyAsync(configurator));

    /// <summary>Async twin of <see cref="KoVerify(KoVerifySettings)"/>.</summary>
    /// <param name="toolSettings">The images and the public key.</param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <returns>The verified images.</returns>
    /// <exception cref="KoTaskException">A signature is missing or does not verify.</exception>
    /// <example><code>await KoTasks.KoVerifyAsync(_ => _.SetReferences(image.Reference).SetKey("cosign.pub"));</code></example>
    public static Task<KoVerifyResult> KoVerifyAsync(KoVerifySettings toolSettings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(toolSettings);
        return RunAsync(nameof(KoVerify), toolSettings, async (engine, ct) => (await engine.VerifyAsync(toolSettings.ToOptions(), ct).ConfigureAwait(false)).ToFace(), cancellationToken);
    }

    /// <summary>Async twin of <see cref="KoVerify(Func{KoVerifySettings, KoVerifySettings})"/>.</summary>
    /// <param name="configurator">Sets the images and the public key.</param>
    /// <param name="cancellationToken">Cancels the checks.</param>
    /// <returns>The verified images.</returns>
    /// <exception cref="KoTaskException">A signature is missing or does not verify.</exception>
    /// <example><code>await KoTasks.KoVerifyAsync(_ => _.SetReferences(image.Reference).SetKey("cosign.pub"));</code></example>
    public static Task<KoVerifyResult> KoVerifyAsync(Func<KoVerifySettings, KoVerifySettings> configurator, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configurator);
        return KoVerifyAsync(configurator(new KoVerifySettings()), cancellationToken);
    }
}
