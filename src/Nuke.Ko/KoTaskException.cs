using Ko.Engine;

namespace Nuke.Ko;

/// <summary>
/// A Ko task failed. The message starts with the stable KO code (<c>KO2003: ...</c>) and says what happened and what to
/// do, so a NUKE target fails with that text; it never contains a secret.
/// </summary>
public sealed class KoTaskException : Exception
{
    /// <summary>Creates the error from the engine's, its hints in NUKE's terms (<c>SetPush(false)</c>, not <c>--push=false</c>).</summary>
    /// <param name="inner">The engine's error.</param>
    public KoTaskException(KoException inner)
        : base($"{inner?.Code}: {(inner is null ? null : NukeHints.Instance.Rewrite(inner.Message))}", inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Code = inner.Code;
    }

    /// <summary>Creates an error for bad settings, before the engine runs.</summary>
    /// <param name="code">The stable code, e.g. <c>KO1004</c>.</param>
    /// <param name="message">What happened and what to do.</param>
    public KoTaskException(string code, string message)
        : base($"{code}: {message}")
    {
        Code = code;
    }

    /// <summary>Creates an error for a task the face itself stopped (a timeout), keeping what caused it.</summary>
    /// <param name="code">The stable code, e.g. <c>KO4022</c>.</param>
    /// <param name="message">What happened and what to do.</param>
    /// <param name="inner">The cause.</param>
    public KoTaskException(string code, string message, Exception inner)
        : base($"{code}: {message}", inner)
    {
        Code = code;
    }

    /// <summary>The stable error code, e.g. <c>KO2003</c>.</summary>
    public string Code { get; }
}
