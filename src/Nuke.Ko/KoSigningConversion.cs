using Ko.Engine;
using Ko.Engine.Signing;
using EngineSigning = Ko.Engine.Signing;

namespace Nuke.Ko;

/// <summary>Turns the NUKE signing settings into the engine's options.</summary>
internal static class KoSigningConversion
{
    /// <summary>The engine's sign options; the password (when set) is handed over as a source, never as text in the options' <c>ToString()</c>.</summary>
    /// <param name="settings">The settings.</param>
    public static KoSignOptions ToOptions(this KoSignSettings settings)
    {
        var password = settings.Password;
        return new KoSignOptions
        {
            References = settings.References.Count > 0 ? settings.References : throw new KoTaskException(KoErrorCodes.InvalidOption, "KoSignSettings.References is empty: call SetReferences(image.Reference) with the images to sign."),
            Key = settings.Key,
            Password = password is null ? null : _ => ValueTask.FromResult<string?>(password),
            Annotations = settings.SignAnnotations,
            Recursive = settings.Recursive ?? false,
            AttestSbom = settings.AttestSbom ?? false,
            InsecureRegistry = settings.InsecureRegistry ?? false,
            WorkingDirectory = settings.WorkingDirectory,
            Environment = KoSettingsConversion.EnvironmentOf(settings),
        };
    }

    /// <summary>The engine's verify options.</summary>
    /// <param name="settings">The settings.</param>
    public static KoVerifyOptions ToOptions(this KoVerifySettings settings) => new()
    {
        References = settings.References.Count > 0 ? settings.References : throw new KoTaskException(KoErrorCodes.InvalidOption, "KoVerifySettings.References is empty: call SetReferences(image.Reference) with the images to verify."),
        Key = settings.Key is { Length: > 0 } key ? key : throw new KoTaskException(KoErrorCodes.InvalidOption, "KoVerifySettings.Key is not set: call SetKey(\"cosign.pub\") with the public key file."),
        Attestations = settings.Attestations ?? false,
        InsecureRegistry = settings.InsecureRegistry ?? false,
        WorkingDirectory = settings.WorkingDirectory,
        Environment = KoSettingsConversion.EnvironmentOf(settings),
    };

    /// <summary>The face's sign result.</summary>
    /// <param name="result">The engine's result.</param>
    public static KoSignResult ToFace(this EngineSigning.KoSignResult result) =>
        new(result.Signatures.Select(s => new KoSignature(s.Name, s.Subject.ToString(), s.Reference, s.Attestation, s.AlreadyPresent, s.Referrer)).ToList());

    /// <summary>The face's verify result.</summary>
    /// <param name="result">The engine's result.</param>
    public static KoVerifyResult ToFace(this EngineSigning.KoVerifyResult result) =>
        new(result.Images.Select(i => new KoVerifiedImage(i.Name, i.Digest.ToString(), i.Signatures, i.PredicateTypes)).ToList());
}
