using System.Diagnostics;

namespace Nuke.Ko.Tests;

/// <summary>KoSettings.Generated.cs is what src/Nuke.Ko/Generator/generate.py makes from its table today.</summary>
public sealed class GeneratedSettingsTests : IDisposable
{
    private readonly TempDir _dir = new("nuke-gen");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_committed_generated_settings_match_a_fresh_run_of_the_generator()
    {
        var output = _dir.Combine("KoSettings.Generated.cs");
        var start = new ProcessStartInfo(Tools.Require("python3")) { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(Repo.Root, "src", "Nuke.Ko", "Generator", "generate.py"));
        start.ArgumentList.Add(output);
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, await stderr);

        var committed = await File.ReadAllTextAsync(Path.Combine(Repo.Root, "src", "Nuke.Ko", "KoSettings.Generated.cs"));
        var fresh = await File.ReadAllTextAsync(output);
        Assert.True(committed == fresh, "src/Nuke.Ko/KoSettings.Generated.cs is stale: run python3 src/Nuke.Ko/Generator/generate.py and commit the result.");
    }
}
