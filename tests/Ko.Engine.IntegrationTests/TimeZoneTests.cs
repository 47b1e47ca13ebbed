namespace Ko.Engine.IntegrationTests;

/// <summary>
/// embedded:static carries time-zone data, as ko's default base does: a Go program that calls
/// time.LoadLocation("America/New_York") runs in the image (without the data it fails there).
/// </summary>
public sealed class TimeZoneTests
{
    private const string MainGo = """
        package main

        import (
        	"fmt"
        	"time"
        )

        func main() {
        	loc, err := time.LoadLocation("America/New_York")
        	if err != nil {
        		panic(err)
        	}
        	fmt.Println(time.Date(2024, 7, 1, 12, 0, 0, 0, time.UTC).In(loc).Format("15:04 MST"))
        }
        """;

    [Fact]
    public async Task A_go_program_loads_a_time_zone_in_an_embedded_static_image()
    {
        using var dir = new TempDir("ko-tz");
        dir.WriteFile("app/go.mod", "module example.com/tz\n\ngo 1.19\n");
        dir.WriteFile("app/main.go", MainGo);
        var env = Repo.Environment(dir.Combine("cache"));
        var tarball = dir.Combine("tz.tar");

        var run = await Repo.KoAsync(env, "build", ".", "-C", dir.Combine("app"), "--push=false", "--tarball", tarball);
        Assert.True(run.ExitCode == 0, run.ToString());
        var name = run.References[0].Split('@')[0];
        using var storage = new TempDir("ko-tz-podman");
        await Tools.PodmanAsync(storage.Path, ["load", "-i", tarball]);
        var output = await Tools.PodmanRunAsync(storage.Path, name + ":latest");

        Assert.Equal("08:00 EDT", output.StandardOutput.Trim());
    }
}
