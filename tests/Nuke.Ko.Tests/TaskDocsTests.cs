using System.Reflection;
using System.Xml.Linq;

namespace Nuke.Ko.Tests;

/// <summary>Every public NUKE task overload has XML docs with an <c>&lt;example&gt;</c> in the documentation file the package ships.</summary>
public sealed class TaskDocsTests
{
    [Fact]
    public void Every_task_overload_has_an_example_in_the_generated_xml_docs()
    {
        var assembly = typeof(KoTasks).Assembly;
        var docs = XDocument.Load(Path.ChangeExtension(assembly.Location, ".xml"));
        var members = docs.Descendants("member").ToDictionary(m => (string)m.Attribute("name")!, m => m);
        var tasks = typeof(KoTasks).GetMethods(BindingFlags.Public | BindingFlags.Static | BindingFlags.DeclaredOnly).ToList();

        Assert.True(tasks.Count >= 40, $"only {tasks.Count} tasks found");
        var missing = tasks.Select(DocId).Where(id => !members.TryGetValue(id, out var m) || m.Element("example") is null).ToList();
        Assert.Empty(missing);
    }

    private static string DocId(MethodInfo method) =>
        $"M:{method.DeclaringType!.FullName}.{method.Name}({string.Join(",", method.GetParameters().Select(p => TypeId(p.ParameterType)))})";

    private static string TypeId(Type type) =>
        type.IsArray ? TypeId(type.GetElementType()!) + "[]"
        : type.IsGenericType ? $"{type.Namespace}.{type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)]}{{{string.Join(",", type.GetGenericArguments().Select(TypeId))}}}"
        : type.FullName!.Replace('+', '.');
}
