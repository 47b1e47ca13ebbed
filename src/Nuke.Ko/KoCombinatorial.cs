namespace Nuke.Ko;

/// <summary>
/// Turns one settings object into several variants that a Ko task runs with a degree of parallelism, as NUKE's
/// <c>CombinatorialConfigure&lt;T&gt;</c>: <c>KoBuild(_ =&gt; _.SetRepository(repo).CombineWith(paths, (_, p) =&gt; _.SetImportPath(p)), degreeOfParallelism: 2)</c>.
/// </summary>
/// <typeparam name="TSettings">The settings type.</typeparam>
/// <param name="settings">The default settings.</param>
/// <returns>The variants to run.</returns>
public delegate IEnumerable<TSettings> KoCombinatorial<TSettings>(TSettings settings)
    where TSettings : KoSettings;

/// <summary>Builds the variants of a <see cref="KoCombinatorial{TSettings}"/>, as NUKE's <c>CombineWith</c>.</summary>
public static class KoCombinatorialExtensions
{
    /// <summary>One variant per configurator, each applied to <paramref name="settings"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <param name="settings">The shared settings.</param>
    /// <param name="variants">How each variant differs.</param>
    /// <returns>The variants, in the order given.</returns>
    [JetBrains.Annotations.Pure]
    public static IEnumerable<T> CombineWith<T>(this T settings, params Func<T, T>[] variants)
        where T : KoSettings
    {
        ArgumentNullException.ThrowIfNull(variants);
        return variants.Select(v => v(settings)).ToList();
    }

    /// <summary>One variant per value, made by <paramref name="configurator"/>.</summary>
    /// <typeparam name="T">The settings type.</typeparam>
    /// <typeparam name="TValue">The values' type.</typeparam>
    /// <param name="settings">The shared settings.</param>
    /// <param name="values">One variant each.</param>
    /// <param name="configurator">Applies a value to the shared settings.</param>
    /// <returns>The variants, in the order of <paramref name="values"/>.</returns>
    [JetBrains.Annotations.Pure]
    public static IEnumerable<T> CombineWith<T, TValue>(this T settings, IEnumerable<TValue> values, Func<T, TValue, T> configurator)
        where T : KoSettings
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(configurator);
        return values.Select(v => configurator(settings, v)).ToList();
    }
}
