namespace Ko.Engine.Tests;

/// <summary>kubectl's output is read into per-object results; anything else it prints is passed over, never a crash.</summary>
public sealed class KubectlOutputTests
{
    [Theory]
    [InlineData("configmap/settings created", "configmap", "settings", "created")]
    [InlineData("deployment.apps/web configured", "deployment.apps", "web", "configured")]
    [InlineData("configmap \"settings\" deleted", "configmap", "settings", "deleted")]
    [InlineData("customresourcedefinition.apiextensions.k8s.io \"widgets.example.com\" deleted", "customresourcedefinition.apiextensions.k8s.io", "widgets.example.com", "deleted")]
    public void Apply_create_and_delete_lines_become_object_results(string line, string resource, string name, string outcome)
    {
        var result = KoEngine.KubectlResultLine(line);

        Assert.Equal(new Configuration.KoObjectResult(resource, name, null, outcome), result);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Warning: resource configmaps/x is missing the last-applied annotation")]
    [InlineData("configmap \"")]
    [InlineData("configmap \"\" deleted")]
    [InlineData("configmap \"unterminated deleted")]
    [InlineData("x \"y\"")]
    [InlineData("/ /")]
    [InlineData("\"\"\"")]
    public void Other_lines_are_no_object_and_no_crash(string line)
    {
        Assert.Null(KoEngine.KubectlResultLine(line));
    }
}
