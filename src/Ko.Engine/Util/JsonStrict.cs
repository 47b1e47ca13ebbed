using System.Text.Json;

namespace Ko.Engine.Util;

/// <summary>JSON reader options for signed documents: bounded depth, and (on .NET 10) duplicate properties refused, so a payload cannot mean two things.</summary>
internal static class JsonStrict
{
    public static JsonDocumentOptions Options(int maxDepth) => new()
    {
        MaxDepth = maxDepth,
#if NET10_0_OR_GREATER
        AllowDuplicateProperties = false,
#endif
    };
}
