#if !NET9_0_OR_GREATER
// In namespace System, which every file imports, so the call sites need no using.
namespace System;

/// <summary>
/// The few .NET 9+ members the engine uses, for its net8.0 build (NUKE 9 and many build projects run on .NET 8 LTS).
/// C# 14 static extensions keep the call sites as they are on net10.0.
/// </summary>
internal static class Net8Polyfills
{
    extension(Convert)
    {
        /// <summary>Lower-case hex, as .NET 9's <c>Convert.ToHexStringLower</c>.</summary>
        public static string ToHexStringLower(ReadOnlySpan<byte> bytes) => Convert.ToHexString(bytes).ToLowerInvariant();

        /// <summary>Lower-case hex, as .NET 9's <c>Convert.ToHexStringLower</c>.</summary>
        public static string ToHexStringLower(byte[] bytes) => Convert.ToHexString(bytes).ToLowerInvariant();
    }
}
#endif
