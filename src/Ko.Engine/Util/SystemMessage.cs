namespace Ko.Engine.Util;

/// <summary>The operating system's reason from an exception, as a sentence that can be followed by another.</summary>
internal static class SystemMessage
{
    /// <summary>The exception's message, trimmed, ending with a full stop.</summary>
    public static string Of(Exception ex)
    {
        var text = ex.Message.Trim();
        return text.Length == 0 ? ex.GetType().Name + "." : text[^1] is '.' or '!' or '?' ? text : text + ".";
    }
}
