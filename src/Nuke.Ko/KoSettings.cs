using System.Collections;
using System.Reflection;
using System.Text;

namespace Nuke.Ko;

/// <summary>Marks a settings property whose value (or, for a dictionary, whose values) <c>ToString()</c> never shows.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class KoSecretAttribute : Attribute;

public abstract partial record KoSettings
{
    /// <summary>
    /// The properties that are set, e.g. <c>KoBuildSettings { ImportPaths = [./cmd/app], Push = True }</c>. Secrets
    /// (<see cref="KoLoginSettings.Password"/>, the values of <see cref="Environment"/>) are shown as <c>***</c>.
    /// </summary>
    public sealed override string ToString()
    {
        var text = new StringBuilder(GetType().Name).Append(" {");
        var first = true;
        foreach (var property in GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance).OrderBy(p => p.MetadataToken))
        {
            var value = property.GetValue(this);
            if (value is null || (value is ICollection { Count: 0 }))
            {
                continue;
            }

            var secret = property.IsDefined(typeof(KoSecretAttribute), inherit: true);
            text.Append(first ? " " : ", ").Append(property.Name).Append(" = ").Append(Show(value, secret));
            first = false;
        }

        return text.Append(first ? "}" : " }").ToString();
    }

    private static string Show(object value, bool secret) => value switch
    {
        IDictionary map => "{ " + string.Join(", ", map.Keys.Cast<object>().Select(k => $"{k} = {(secret ? "***" : map[k])}")) + " }",
        string s => secret ? "***" : s,
        IEnumerable list => "[" + string.Join(", ", list.Cast<object?>()) + "]",
        _ => secret ? "***" : value.ToString() ?? string.Empty,
    };
}

/// <summary>The copies the fluent extensions make: collections are never shared between two settings objects.</summary>
internal static class KoCollections
{
    public static IReadOnlyDictionary<string, TValue> EmptyMap<TValue>() => new Dictionary<string, TValue>(StringComparer.Ordinal).AsReadOnly();

    public static IReadOnlyList<string> List(IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Array.AsReadOnly(values.ToArray());
    }

    public static IReadOnlyList<string> Add(IReadOnlyList<string> current, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Array.AsReadOnly(current.Concat(values).ToArray());
    }

    public static IReadOnlyList<string> Remove(IReadOnlyList<string> current, IEnumerable<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var removed = values.ToHashSet(StringComparer.Ordinal);
        return Array.AsReadOnly(current.Where(v => !removed.Contains(v)).ToArray());
    }

    public static IReadOnlyDictionary<string, TValue> Map<TValue>(IReadOnlyDictionary<string, TValue> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return new Dictionary<string, TValue>(values, StringComparer.Ordinal).AsReadOnly();
    }

    public static IReadOnlyDictionary<string, TValue> With<TValue>(IReadOnlyDictionary<string, TValue> current, string key, TValue value, bool replace)
    {
        ArgumentNullException.ThrowIfNull(key);
        var copy = new Dictionary<string, TValue>(current, StringComparer.Ordinal);
        if (replace)
        {
            copy[key] = value;
        }
        else if (!copy.TryAdd(key, value))
        {
            throw new ArgumentException($"'{key}' is already set; use the Set method to replace it.", nameof(key));
        }

        return copy.AsReadOnly();
    }

    public static IReadOnlyDictionary<string, TValue> Without<TValue>(IReadOnlyDictionary<string, TValue> current, string key)
    {
        var copy = new Dictionary<string, TValue>(current, StringComparer.Ordinal);
        copy.Remove(key);
        return copy.AsReadOnly();
    }
}
