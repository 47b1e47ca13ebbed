using System.Collections;
using System.Reflection;
using Ko.Engine.Publishing;
using Ko.Engine.Sbom;

namespace Nuke.Ko.Tests;

/// <summary>
/// Table-driven over reflection: every fluent extension of every settings type, applied to every concrete settings
/// type it accepts, returns a new instance of the same type, leaves the original unchanged and changes one property.
/// </summary>
public sealed class FluentExtensionTests
{
    private static readonly Assembly Ko = typeof(KoTasks).Assembly;

    private static readonly (string Alias, string Property)[] NukeAliases = [("ProcessWorkingDirectory", "WorkingDirectory"), ("ProcessEnvironmentVariable", "Environment")];

    private static readonly string[] Prefixes = ["Set", "Reset", "Enable", "Disable", "Toggle", "Add", "Remove", "Clear"];

    private static IEnumerable<MethodInfo> Extensions() => Ko.GetExportedTypes()
        .Where(t => t.IsAbstract && t.IsSealed && t.Name.EndsWith("SettingsExtensions", StringComparison.Ordinal))
        .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Static));

    private static IEnumerable<Type> ConcreteSettings() => Ko.GetExportedTypes().Where(t => typeof(KoSettings).IsAssignableFrom(t) && !t.IsAbstract);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var method in Extensions())
        {
            var constraint = method.GetGenericArguments()[0].GetGenericParameterConstraints().Single();
            foreach (var concrete in ConcreteSettings().Where(constraint.IsAssignableFrom))
            {
                data.Add(concrete.Name, Id(method));
            }
        }

        return data;
    }

    [Fact]
    public void There_are_extensions_for_every_settings_type_and_each_is_pure_generic_and_named_as_NUKE_names_them()
    {
        var methods = Extensions().ToList();
        Assert.True(methods.Count > 150, $"only {methods.Count} extensions found");
        foreach (var method in methods)
        {
            Assert.True(method.GetCustomAttributes().Any(a => a.GetType().FullName == "JetBrains.Annotations.PureAttribute"), $"{Id(method)} is not [Pure]");
            Assert.True(method.IsGenericMethodDefinition && method.ReturnType == method.GetGenericArguments()[0], $"{Id(method)} does not return its T");
            Assert.Contains(Prefixes, p => method.Name.StartsWith(p, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Every_property_has_the_extensions_its_kind_calls_for()
    {
        var names = Extensions().Select(m => m.Name).ToHashSet();
        foreach (var type in ConcreteSettings())
        {
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.Name != "EqualityContract"))
            {
                var t = property.PropertyType;
                string[] expected = t == typeof(bool?) ? ["Set", "Reset", "Enable", "Disable", "Toggle"]
                    : IsMap(t) ? ["Set", "Clear"]
                    : t == typeof(IReadOnlyList<string>) ? ["Set", "Add", "Remove", "Clear"]
                    : ["Set", "Reset"];
                foreach (var prefix in expected)
                {
                    Assert.True(names.Contains(prefix + property.Name), $"{type.Name}.{property.Name} has no {prefix}{property.Name}");
                }
            }
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Returns_a_changed_copy_and_leaves_the_original_alone(string settingsType, string extension)
    {
        var concrete = ConcreteSettings().Single(t => t.Name == settingsType);
        var method = Extensions().Single(m => Id(m) == extension).MakeGenericMethod(concrete);
        var prefix = Prefixes.Where(p => method.Name.StartsWith(p, StringComparison.Ordinal)).MaxBy(p => p.Length)!;
        var target = prefix is "Set" or "Add" or "Enable" ? (KoSettings)Activator.CreateInstance(concrete)! : Populated(concrete);
        var before = Snapshot(target);

        var args = new object?[] { target }.Concat(method.GetParameters().Skip(1).Select(p => Argument(p, prefix))).ToArray();
        var result = (KoSettings)method.Invoke(null, args)!;

        Assert.NotSame(target, result);
        Assert.Equal(concrete, result.GetType());
        Assert.Equal(before, Snapshot(target));
        var after = Snapshot(result);
        var changed = before.Keys.Where(k => before[k] != after[k]).ToList();
        var what = method.Name[prefix.Length..];
        // NUKE's names for ko's properties (the generator's ALIASES) write those properties.
        foreach (var (alias, property) in NukeAliases)
        {
            what = what.StartsWith(alias, StringComparison.Ordinal) ? property : what;
        }

        var one = Assert.Single(changed);
        Assert.True(one.StartsWith(what, StringComparison.Ordinal) || what.StartsWith(one, StringComparison.Ordinal), $"{extension} changed {one}");
    }

    [Fact]
    public void Settings_show_what_is_set_and_never_a_secret()
    {
        var login = new KoLoginSettings().SetRegistry("registry.example:5000").SetUsername("ci").SetPassword("hunter2-secret")
            .SetEnvironmentVariable("REGISTRY_TOKEN", "token-secret");
        var text = login.ToString();
        Assert.Contains("registry.example:5000", text);
        Assert.Contains("Username = ci", text);
        Assert.Contains("Password = ***", text);
        Assert.Contains("REGISTRY_TOKEN = ***", text);
        Assert.DoesNotContain("hunter2-secret", text);
        Assert.DoesNotContain("token-secret", text);

        var build = new KoBuildSettings().SetImportPath("./cmd/app").SetPlatforms("linux/amd64", "linux/arm64").EnablePush().AddLabel("team", "core");
        Assert.Equal("KoBuildSettings { Platforms = [linux/amd64, linux/arm64], Push = True, Labels = { team = core }, ImportPaths = [./cmd/app] }", build.ToString());
    }

    [Fact]
    public void Chains_read_as_in_a_NUKE_build_and_keep_the_derived_type()
    {
        KoApplySettings apply = new KoApplySettings().SetRepository("r.example/team").AddFiles("k8s").SetNamespace("web").EnableForceConflicts();
        Assert.Equal("r.example/team", apply.Repository);
        Assert.Equal(["k8s"], apply.Files);
        Assert.True(apply.ForceConflicts);
        Assert.Throws<ArgumentException>(() => new KoBuildSettings().AddLabel("a", "1").AddLabel("a", "2"));
        Assert.Equal("2", new KoBuildSettings().AddLabel("a", "1").SetLabel("a", "2").Labels["a"]);
        Assert.Equal(["b"], new KoBuildSettings().SetTags("a", "b", "a").RemoveTags("a").Tags);
    }

    [Fact]
    public void Sbom_and_continue_on_error_settings_reach_the_engine()
    {
        var build = new KoBuildSettings().SetSbom(KoSbomFormat.CycloneDx).SetSbomDirectory("/tmp/sboms").SetSbomAttach(KoSbomAttachment.Tag).ToOptions();
        Assert.Equal((SbomFormat.CycloneDx, "/tmp/sboms", SbomAttachment.Tag), (build.Sbom, build.SbomDirectory, build.SbomAttach));
        var defaults = new KoBuildSettings().ToOptions();
        Assert.Equal((null, null, SbomAttachment.Referrers), (defaults.Sbom, defaults.SbomDirectory, defaults.SbomAttach));

        Assert.True(new KoCreateSettings().EnableContinueOnError().ToApplyOptions().ContinueOnError);
        Assert.Equal(SbomFormat.None, new KoApplySettings().SetSbom(KoSbomFormat.None).ToApplyOptions().Resolve.Build.Sbom);
        Assert.False(new KoApplySettings().ToApplyOptions().ContinueOnError);
    }

    [Fact]
    public void Several_naming_switches_pick_as_ko_does_instead_of_failing()
    {
        // ko pkg/commands/options/publish.go MakeNamer: -P, then -B, then --bare (the engine's NamingRule).
        Assert.Equal(NamingStrategy.PreserveImportPath, new KoBuildSettings().EnableBare().EnablePreserveImportPaths().EnableBaseImportPaths().ToOptions().Naming);
        Assert.Equal(NamingStrategy.BaseImportPath, new KoBuildSettings().EnableBare().EnableBaseImportPaths().ToOptions().Naming);
        Assert.Equal(NamingStrategy.Bare, new KoBuildSettings().EnableBare().ToOptions().Naming);
    }

    private static string Id(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}({string.Join(",", m.GetParameters().Skip(1).Select(p => p.ParameterType.Name))})";

    private static bool IsMap(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IReadOnlyDictionary<,>);

    /// <summary>A build result that differs by its import path (and shows it in the snapshot's ToString).</summary>
    private static KoBuildResult SampleResult(string importPath) =>
        new([new KoImage(importPath, "reg.example/app", "reg.example/app:latest", "sha256:" + new string('a', 64), "application/vnd.oci.image.manifest.v1+json", [], [])], new KoBuildStatistics(0, 0, 0, 0, 0, 0));

    private static KoSettings Populated(Type concrete)
    {
        var settings = (KoSettings)Activator.CreateInstance(concrete)!;
        foreach (var property in concrete.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var t = property.PropertyType;
            object value = t == typeof(string) ? "original"
                : t == typeof(bool?) ? true
                : t == typeof(int?) ? 3
                : Nullable.GetUnderlyingType(t) is { IsEnum: true } e ? Enum.GetValues(e).GetValue(0)!
                : t == typeof(IReadOnlyList<string>) ? new[] { "a", "b" }
                : t == typeof(IReadOnlyDictionary<string, string>) ? new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }
                : t == typeof(IReadOnlyDictionary<string, string?>) ? (object)new Dictionary<string, string?> { ["a"] = "1", ["b"] = "2" }
                : t == typeof(KoBuildResult) ? SampleResult("original")
                : throw new InvalidOperationException($"no sample value for {concrete.Name}.{property.Name} ({t})");
            property.SetValue(settings, value);
        }

        return settings;
    }

    private static object? Argument(ParameterInfo parameter, string prefix)
    {
        var t = parameter.ParameterType;
        if (t == typeof(string))
        {
            if (parameter.Name!.EndsWith("Key", StringComparison.Ordinal))
            {
                return prefix == "Add" ? "new" : "a";
            }

            return parameter.Name!.EndsWith("Value", StringComparison.Ordinal) ? "changed" : "new";
        }

        if (t == typeof(string[]) || t == typeof(IEnumerable<string>))
        {
            return prefix == "Remove" ? new[] { "a" } : new[] { "new1", "new2" };
        }

        if (t == typeof(bool?))
        {
            return true;
        }

        if (t == typeof(int?))
        {
            return 7;
        }

        if (Nullable.GetUnderlyingType(t) is { IsEnum: true } e)
        {
            var values = Enum.GetValues(e);
            return values.GetValue(values.Length - 1); // differs from Populated's first value
        }

        if (t == typeof(IReadOnlyDictionary<string, string>))
        {
            return new Dictionary<string, string> { ["x"] = "y" };
        }

        if (t == typeof(IReadOnlyDictionary<string, string?>))
        {
            return new Dictionary<string, string?> { ["x"] = "y" };
        }

        if (t == typeof(KoBuildResult))
        {
            return SampleResult("changed");
        }

        throw new InvalidOperationException($"no sample argument for {parameter.Member.Name}({t.Name} {parameter.Name})");
    }

    private static Dictionary<string, string> Snapshot(KoSettings settings) => settings.GetType()
        .GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .ToDictionary(p => p.Name, p => Show(p.GetValue(settings)));

    private static string Show(object? value) => value switch
    {
        null => "<null>",
        IDictionary map => "{" + string.Join(",", map.Keys.Cast<object>().Select(k => $"{k}={map[k]}").Order()) + "}",
        string s => s,
        IEnumerable list => "[" + string.Join(",", list.Cast<object?>()) + "]",
        _ => value.ToString() ?? string.Empty,
    };
}

/// <summary>NUKE's When(condition, configurator) on Ko settings.</summary>
public sealed class ConditionalSettingsTests
{
    [Fact]
    public void When_configures_only_if_the_condition_holds()
    {
        var settings = new KoBuildSettings().SetImportPath(".");

        var changed = settings.When(true, _ => _.DisablePush());
        var unchanged = settings.When(false, _ => _.DisablePush());

        Assert.False(changed.Push);
        Assert.Null(unchanged.Push);
        Assert.Same(settings, unchanged);
        Assert.Null(settings.Push); // the original is never changed
    }
}
