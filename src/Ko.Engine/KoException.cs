namespace Ko.Engine;

/// <summary>
/// An error the engine reports to its caller: a stable code (<c>KO1xxx</c> configuration, <c>KO2xxx</c> Go and
/// application inputs, <c>KO3xxx</c> registries and outputs, <c>KO4xxx</c> resolve/apply) and a message that says
/// what happened and what to do. Messages never contain secrets.
/// </summary>
public sealed class KoException : Exception
{
    /// <summary>Creates an error with a stable code and a message for people.</summary>
    /// <param name="code">The stable code, for example <c>KO2003</c>.</param>
    /// <param name="message">What happened and what to do about it.</param>
    /// <param name="inner">The underlying error, if any.</param>
    public KoException(string code, string message, Exception? inner = null)
        : base(message, inner)
    {
        Code = code;
    }

    /// <summary>The stable error code, for example <c>KO2003</c>.</summary>
    public string Code { get; }

    /// <inheritdoc />
    public override string ToString() => $"{Code}: {Message}";
}

/// <summary>The stable error codes the engine raises.</summary>
public static class KoErrorCodes
{
    /// <summary>A platform string is not <c>os/arch[/variant]</c> or is not known.</summary>
    public const string InvalidPlatform = "KO1001";
    /// <summary>A base image reference cannot be used.</summary>
    public const string InvalidBaseImage = "KO1002";
    /// <summary>Pushing was asked for without a repository.</summary>
    public const string MissingRepository = "KO1003";
    /// <summary>An option has a value that cannot be used.</summary>
    public const string InvalidOption = "KO1004";
    /// <summary>The <c>go</c> tool could not be run.</summary>
    public const string GoNotFound = "KO2001";
    /// <summary>An import path could not be resolved to a package.</summary>
    public const string PackageNotFound = "KO2002";
    /// <summary>An import path names a package that is not <c>package main</c>.</summary>
    public const string NotMainPackage = "KO2003";
    /// <summary><c>go build</c> failed; the message carries the compiler's output.</summary>
    public const string BuildFailed = "KO2004";
    /// <summary>A file under <c>kodata/</c> cannot be read or is not allowed.</summary>
    public const string KodataUnreadable = "KO2005";
    /// <summary>An output (layout, archive, file) cannot be written.</summary>
    public const string OutputNotWritable = "KO3001";
    /// <summary>Pushing to a registry failed.</summary>
    public const string PushFailed = "KO3002";
    /// <summary>A base image could not be read.</summary>
    public const string BaseImageUnreadable = "KO3003";
    /// <summary>A registry refused the credentials (or wants some and none were found); the message names the registry and the user, never the secret, and says to run <c>dotnet ko login</c>.</summary>
    public const string AuthenticationFailed = "KO3004";
    /// <summary>Loading an image into the local docker or podman (<c>--local</c>, a <c>ko.local</c> repository) failed; the message names the tool and carries its error output.</summary>
    public const string DaemonLoadFailed = "KO3005";
}
