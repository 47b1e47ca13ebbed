using Cake.Core;
using Cake.Core.Diagnostics;
using Cake.Core.IO;

namespace Cake.Ko.Tests;

/// <summary>A Cake environment with its own variables and working directory (Cake.Testing is not on NuGet here).</summary>
internal sealed class FakeCakeEnvironment(string workingDirectory, IDictionary<string, string> variables) : ICakeEnvironment
{
    private readonly CakeEnvironment _real = new(new CakePlatform(), new CakeRuntime());

    public DirectoryPath WorkingDirectory { get; set; } = new(workingDirectory);

    public DirectoryPath ApplicationRoot => _real.ApplicationRoot;

    public DirectoryPath UserHomeDirectory => _real.UserHomeDirectory;

    public ICakePlatform Platform => _real.Platform;

    public ICakeRuntime Runtime => _real.Runtime;

    public DirectoryPath GetSpecialPath(SpecialPath path) => _real.GetSpecialPath(path);

    public string? GetEnvironmentVariable(string variable) => variables.TryGetValue(variable, out var v) ? v : null;

    public IDictionary<string, string> GetEnvironmentVariables() => new Dictionary<string, string>(variables);
}

/// <summary>A Cake log that keeps what is written.</summary>
internal sealed class FakeCakeLog(Verbosity verbosity) : ICakeLog
{
    public List<(Verbosity Verbosity, LogLevel Level, string Text)> Lines { get; } = [];

    public Verbosity Verbosity { get; set; } = verbosity;

    public void Write(Verbosity verbosity, LogLevel level, string format, params object[] args) =>
        Lines.Add((verbosity, level, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args)));
}

/// <summary>A Cake context with an environment, a log and Cake's real file system and globber; the aliases use nothing else.</summary>
internal sealed class FakeCakeContext(ICakeEnvironment environment, ICakeLog log) : ICakeContext
{
    public ICakeEnvironment Environment => environment;

    public ICakeLog Log => log;

    public IFileSystem FileSystem { get; } = new FileSystem();

    // Cake's own globber on the real file system, as a script has it.
    public IGlobber Globber => new Globber(FileSystem, environment);

    public ICakeArguments Arguments => throw new NotSupportedException();

    public IProcessRunner ProcessRunner => throw new NotSupportedException();

    public IRegistry Registry => throw new NotSupportedException();

    public Cake.Core.Tooling.IToolLocator Tools => throw new NotSupportedException();

    public ICakeDataResolver Data => throw new NotSupportedException();

    public Cake.Core.Configuration.ICakeConfiguration Configuration => throw new NotSupportedException();

    public Cake.Core.Tooling.IToolInstaller ToolInstaller => throw new NotSupportedException();

    public IServiceProvider ServiceProvider => throw new NotSupportedException();
}
