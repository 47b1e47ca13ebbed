using System.Reflection;

namespace Nuke.Ko.Tests;

/// <summary>A NUKE build needs no <c>using Ko.Engine.*</c>: Nuke.Ko's public API shows only its own types (and the BCL's).</summary>
public sealed class PublicApiTests
{
    [Fact]
    public void No_public_member_of_Nuke_Ko_shows_an_engine_type()
    {
        var engine = typeof(global::Ko.Engine.KoEngine).Assembly;
        var leaks = new List<string>();
        foreach (var type in typeof(KoTasks).Assembly.GetExportedTypes())
        {
            const BindingFlags visible = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
            var shown = new List<(string Where, Type Type)>();
            shown.AddRange(type.GetProperties(visible).Select(p => ($"{type.Name}.{p.Name}", p.PropertyType)));
            foreach (var method in type.GetMethods(visible).Concat<MethodBase>(type.GetConstructors()))
            {
                if (method is MethodInfo m)
                {
                    shown.Add(($"{type.Name}.{m.Name} returns", m.ReturnType));
                }

                shown.AddRange(method.GetParameters().Select(p => ($"{type.Name}.{method.Name}({p.Name})", p.ParameterType)));
            }

            shown.AddRange(type.GetFields(visible).Select(f => ($"{type.Name}.{f.Name}", f.FieldType)));
            leaks.AddRange(shown.Where(s => Mentions(s.Type, engine)).Select(s => $"{s.Where}: {s.Type}"));
        }

        // The one engine type left is the exception's constructor from the engine's error, which scripts never call.
        var unexpected = leaks.Where(l => !l.StartsWith("KoTaskException..ctor(inner)", StringComparison.Ordinal)).ToList();
        Assert.Empty(unexpected);
    }

    private static bool Mentions(Type type, Assembly engine) =>
        type.Assembly == engine
        || (type.HasElementType && Mentions(type.GetElementType()!, engine))
        || (type.IsGenericType && type.GetGenericArguments().Any(a => Mentions(a, engine)));
}
