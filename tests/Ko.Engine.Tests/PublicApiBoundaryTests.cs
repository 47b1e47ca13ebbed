using System.Reflection;
using System.Runtime.CompilerServices;

namespace Ko.Engine.Tests;

/// <summary>The faces use the engine through its public API only: no face assembly sees the engine's internals.</summary>
public sealed class PublicApiBoundaryTests
{
    [Fact]
    public void Only_the_engine_test_projects_see_the_engine_internals_and_the_dotnet_ko_tool_is_not_one_of_them()
    {
        var friends = typeof(KoEngine).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).Order(StringComparer.Ordinal);
        Assert.Equal(["Ko.Engine.IntegrationTests", "Ko.Engine.Tests"], friends);
    }

    [Fact]
    public void The_signing_facade_and_its_option_and_result_types_are_public()
    {
        var engine = typeof(KoEngine);
        foreach (var method in new[] { "GenerateKeyAsync", "SignAsync", "VerifyAsync" })
        {
            var m = engine.GetMethod(method, BindingFlags.Public | BindingFlags.Instance);
            Assert.NotNull(m);
            Assert.All(m!.GetParameters().Select(p => p.ParameterType).Append(m.ReturnType.GetGenericArguments()[0]), t => Assert.True(t.IsPublic || t == typeof(CancellationToken), $"{method}: {t} is not public"));
        }
    }
}
