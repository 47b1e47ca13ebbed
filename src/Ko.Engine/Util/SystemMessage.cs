namespace Ko.Engine.Util;

/// <summary>The operating system's reason from an exception, as a sentence that can be followed by another.</summary>
public static class SystemMessage
{
    /// <summary>The exception's message, trimmed, ending with a full stop.</summary>
    /// <param name="ex">The exception, typically an <see cref="IOException"/> from the operating system.</param>
    public static string Of(Exception ex)
    {
        var text = ex.Message.Trim();
        return text.Length == 0 ? ex.GetType().Name + "." : text[^1] is '.' or '!' or '?' ? text : text + ".";
    }
}
