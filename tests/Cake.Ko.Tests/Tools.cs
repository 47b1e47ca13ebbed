
namespace Cake.Ko.Tests;

/// <summary>Finds the real tools the tests use, and fails loudly when one is missing.</summary>
public static class Tools
{
    public static string Require(string name) => ToolPath.Require(name);
}

