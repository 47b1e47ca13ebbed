// This repository's own build, using Cake.Ko from the local pack (see README "Cake" for the command that packs
// src/Cake.Ko into artifacts/feed first: the #addin line is resolved before any task runs).
#addin nuget:?package=Cake.Ko&version=0.1.0&loaddependencies=true

var target = Argument("target", "Default");
var configuration = Argument("configuration", "Release");
var skipTests = HasArgument("skip-tests");
var root = MakeAbsolute(Directory(".."));
var artifacts = root.Combine("artifacts");

Task("Build").Does(() =>
{
    DotNetBuild(root.CombineWithFilePath("KoAddins.sln").FullPath, new DotNetBuildSettings { Configuration = configuration });
});

Task("Test")
    .IsDependentOn("Build")
    .WithCriteria(!skipTests, "--skip-tests")
    .Does(() =>
{
    DotNetTest(root.CombineWithFilePath("KoAddins.sln").FullPath, new DotNetTestSettings { Configuration = configuration, NoBuild = true });
});

Task("Pack")
    .IsDependentOn("Test")
    .Does(() =>
{
    DotNetPack(root.Combine("src/Cake.Ko").FullPath, new DotNetPackSettings { Configuration = configuration, OutputDirectory = artifacts.Combine("packages") });
});

Task("PublishImage")
    .IsDependentOn("Pack")
    .Does(() =>
{
    var result = KoBuild("./", new KoBuildSettings
    {
        WorkingDirectory = root.Combine("examples/hello"),
        Push = false,
        Platforms = { "linux/amd64", "linux/arm64" },
        OciLayoutPath = artifacts.Combine("hello-layout"),
        OciArchivePath = artifacts.CombineWithFilePath("hello.oci.tar"),
        TarballPath = artifacts.CombineWithFilePath("hello.docker.tar"),
        ImageRefsPath = artifacts.CombineWithFilePath("hello.refs"),
        Ldflags = { "-X main.version=" + Argument("app-version", "dev") },
    });
    Information("{0} ({1})", result.Reference, string.Join(", ", result.Platforms));
});

Task("Default").IsDependentOn("PublishImage");

RunTarget(target);
