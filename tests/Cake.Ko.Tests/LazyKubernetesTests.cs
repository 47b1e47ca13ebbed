using System.Diagnostics;
using System.Reflection;
using System.Runtime.Loader;
using Cake.Core;
using Cake.Core.Diagnostics;

namespace Cake.Ko.Tests;

/// <summary>
/// A build-only Cake script does not pay for the Kubernetes client (12 MB of the addin): the addin and the engine are
/// loaded into their own <see cref="AssemblyLoadContext"/>, as Cake loads an addin, and after a real <c>KoBuild</c>
/// KubernetesClient.dll has not been loaded there; a Kubernetes alias does load it.
/// </summary>
public sealed class LazyKubernetesTests : IDisposable
{
    private readonly TempDir _dir = new("cake-lazy-k8s");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void KoBuild_does_not_load_KubernetesClient_and_KoDelete_does()
    {
        Tools.Require("go");
        var hello = CopyHello();
        var context = new FakeCakeContext(
            new FakeCakeEnvironment(hello, new Dictionary<string, string> { ["PATH"] = Environment.GetEnvironmentVariable("PATH")!, ["HOME"] = _dir.Path }),
            new FakeCakeLog(Verbosity.Normal));
        var addin = new AddinLoadContext(Path.GetDirectoryName(typeof(KoAliases).Assembly.Location)!);
        var aliases = addin.LoadFromAssemblyName(new AssemblyName("Cake.Ko")).GetType("Cake.Ko.KoAliases")!;
        var settingsType = aliases.Assembly.GetType("Cake.Ko.KoBuildSettings")!;
        var settings = Activator.CreateInstance(settingsType)!;
        settingsType.GetProperty("Push")!.SetValue(settings, false);
        settingsType.GetProperty("CacheDirectory")!.SetValue(settings, new Cake.Core.IO.DirectoryPath(_dir.Combine("cache")));
        ((ICollection<string>)settingsType.GetProperty("Platforms")!.GetValue(settings)!).Add("linux/amd64");
        var build = aliases.GetMethod("KoBuild", [typeof(ICakeContext), typeof(string), settingsType])!;

        var clock = Stopwatch.StartNew();
        var result = build.Invoke(null, [context, ".", settings]);
        clock.Stop();

        Assert.NotNull(result);
        Assert.Contains(addin.Assemblies, a => a.GetName().Name == "Ko.Engine");
        Assert.DoesNotContain(addin.Assemblies, a => a.GetName().Name == "KubernetesClient");

        // A Kubernetes alias is what loads it (here KoDelete of a file whose object the unreachable cluster never sees).
        var deleteSettingsType = aliases.Assembly.GetType("Cake.Ko.KoDeleteSettings")!;
        var deleteSettings = Activator.CreateInstance(deleteSettingsType)!;
        var kubeconfig = _dir.WriteFile("kubeconfig", "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\ncontexts:\n- name: c\n  context:\n    cluster: c\n    user: u\ncurrent-context: c\nusers:\n- name: u\n  user: {}\n");
        deleteSettingsType.GetProperty("Kubeconfig")!.SetValue(deleteSettings, new Cake.Core.IO.FilePath(kubeconfig));
        var manifest = _dir.WriteFile("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: default\n");
        var delete = aliases.GetMethod("KoDelete", [typeof(ICakeContext), typeof(Cake.Core.IO.FilePath), deleteSettingsType])!;
        var failed = Assert.Throws<TargetInvocationException>(() => delete.Invoke(null, [context, new Cake.Core.IO.FilePath(manifest), deleteSettings]));
        Assert.IsType<CakeException>(failed.InnerException);
        Assert.Contains(addin.Assemblies, a => a.GetName().Name == "KubernetesClient");
    }

    private string CopyHello()
    {
        var source = Path.Combine(CakeScriptRun.RepoRoot, "examples", "hello");
        var target = _dir.Combine("hello");
        foreach (var file in Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories))
        {
            var to = Path.Combine(target, Path.GetRelativePath(source, file));
            Directory.CreateDirectory(Path.GetDirectoryName(to)!);
            File.Copy(file, to);
        }

        return target;
    }

    /// <summary>An addin's own load context: its DLLs from its folder, Cake's (Cake.Core, logging) shared with the host.</summary>
    private sealed class AddinLoadContext(string directory) : AssemblyLoadContext("cake-ko-addin", isCollectible: false)
    {
        private static readonly HashSet<string> Shared = ["Cake.Core", "Microsoft.Extensions.Logging.Abstractions", "Microsoft.Extensions.DependencyInjection.Abstractions"];

        protected override Assembly? Load(AssemblyName name)
        {
            var path = Path.Combine(directory, name.Name + ".dll");
            return Shared.Contains(name.Name!) || !File.Exists(path) ? null : LoadFromAssemblyPath(path);
        }
    }
}
