using JetBrains.Annotations;

namespace Nuke.Ko;

/// <summary>NUKE's <c>When(condition, configurator)</c> for Ko settings: configure only when a condition holds.</summary>
public static class KoSettingsConditionalExtensions
{
    /// <summary>
    /// Applies <paramref name="configurator"/> when <paramref name="condition"/> is true, else returns the settings as
    /// they are: <c>KoBuild(_ =&gt; _.SetImportPath(".").When(IsLocalBuild, _ =&gt; _.DisablePush()))</c>.
    /// </summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="toolSettings">The settings.</param>
    /// <param name="condition">Whether to configure.</param>
    /// <param name="configurator">The change to make.</param>
    /// <returns>The changed copy, or the settings unchanged.</returns>
    [Pure]
    public static T When<T>(this T toolSettings, bool condition, Func<T, T> configurator)
        where T : KoSettings
    {
        ArgumentNullException.ThrowIfNull(toolSettings);
        ArgumentNullException.ThrowIfNull(configurator);
        return condition ? configurator(toolSettings) : toolSettings;
    }
}
