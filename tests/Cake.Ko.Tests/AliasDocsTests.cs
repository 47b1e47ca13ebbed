using System.Reflection;
using System.Xml.Linq;
using Cake.Core.Annotations;

namespace Cake.Ko.Tests;

/// <summary>Every public Cake alias overload has XML docs with an <c>&lt;example&gt;</c> in the documentation file the package ships.</summary>
public sealed class AliasDocsTests
{
    [Fact]
    public void Every_alias_overload_has_an_example_in_the_generated_xml_docs()
    {
        var assembly = typeof(KoAliases).Assembly;
        var docs = XDocument.Load(Path.ChangeExtension(assembly.Location, ".xml"));
        var members = docs.Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
        var aliases = assembly.GetExportedTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static))
            .Where(m => m.IsDefined(typeof(CakeMethodAliasAttribute)))
            .ToList();

        Assert.True(aliases.Count >= 35, $"only {aliases.Count} aliases found");
        var missing = aliases.Select(DocId).Where(id => !members.TryGetValue(id, out var m) || m.Element("example") is null).ToList();
        Assert.Empty(missing);
        Assert.All(aliases, a => Assert.True(a.IsDefined(typeof(CakeAliasCategoryAttribute)), $"{DocId(a)} has no [CakeAliasCategory]"));
    }

    internal static string DocId(MethodInfo method) =>
        $"M:{method.DeclaringType!.FullName}.{method.Name}({string.Join(",", method.GetParameters().Select(p => TypeId(p.ParameterType)))})";

    private static string TypeId(Type type) =>
        type.IsArray ? TypeId(type.GetElementType()!) + "[]"
        : type.IsGenericType ? $"{type.Namespace}.{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}{{{string.Join(",", type.GetGenericArguments().Select(TypeId))}}}"
        : type.FullName!.Replace('+', '.');
}
