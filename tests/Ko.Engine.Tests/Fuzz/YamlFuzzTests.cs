using System.Text;
using CsCheck;
using Ko.Engine.Configuration;
using Ko.Engine.Manifests;
using static Ko.Engine.Tests.Fuzz.FuzzSupport;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>Fuzz/property tests of the YAML readers: <c>.ko.yaml</c> and the <c>ko://</c> reference finder/rewriter.</summary>
[Trait("Category", "Fuzz")]
public sealed class YamlFuzzTests
{
    private static readonly string[] KoYamlSeeds =
    [
        """
        defaultBaseImage: registry.example/base:v1
        defaultPlatforms: [linux/amd64, linux/arm64]
        baseImageOverrides:
          example.com/app: embedded:static
        defaultEnv: {CGO_ENABLED: "0"}
        defaultFlags: -trimpath
        defaultLabels: {team: platform}
        builds:
        - id: app
          dir: ./cmd
          main: ./app
          env: [A=1, "B={{.Env.HOME}}"]
          flags: [-tags, netgo]
          ldflags: ["-s -w", "-X main.v={{.Git.Tag}}"]
          linux_capabilities: cap_net_bind_service
          labels: {a: b}
          annotations: {c: d}
          user: "1000"
          imageEnv: [X=y]
          entrypoint: [/ko-app/app]
          args: [--flag]
        """,
        "defaultBaseImage: &b alpine\nbuilds:\n- id: *b\n  main: *b\n",
        "builds: [{id: a, env: {K: v}}, {dir: x}]\n",
        "%YAML 1.2\n---\ndefaultPlatforms: linux/amd64,linux/arm64\n...\n",
        "a: &x [*x]\nbuilds:\n- &y {id: *y}\n",
        "? [complex, key]\n: value\n",
        "defaultEnv: !!map {a: b}\nbuilds: !!seq []\n",
    ];

    [Fact]
    public Task Ko_yaml_parse_only_throws_KoException() =>
        CheckAsync(Hostile(300, KoYamlSeeds), text => OnlyKoException(() => KoConfigFile.Parse(text, "/fuzz/.ko.yaml")), 2000);

    // .ko.yaml values are templates: only KoException; text without "{{" comes back unchanged; .Env values are substituted as they are.
    [Fact]
    public Task Ko_yaml_templates_expand_or_throw_KoException() =>
        CheckEachAsync(
            Hostile(120, "-X main.version={{.Env.VERSION}}", "{{ .Env.HOME }}/{{.Date}}-{{.Timestamp}}", "{{-.Env.A-}}{{.Env.B}}", "{{.Git.Nope}}", "{{.Env}}", "{{", "}}{{x}}", "plain"),
            async text =>
            {
                var env = new Dictionary<string, string?>(StringComparer.Ordinal) { ["VERSION"] = "v{{1}}", ["HOME"] = "/h", ["A"] = "a", ["B"] = "" };
                var templates = new TemplateContext(env, "/nonexistent", DateTimeOffset.UnixEpoch, _ => Task.FromResult<IReadOnlyDictionary<string, string>>(new Dictionary<string, string> { ["GOOS"] = "linux" }), gitPath: "/nonexistent/git");
                try
                {
                    var expanded = await templates.ExpandAsync(text, "/fuzz/.ko.yaml builds[0].ldflags", CancellationToken.None);
                    if (!TemplateContext.HasTemplate(text))
                    {
                        Assert.Equal(text, expanded);
                    }
                }
                catch (KoException ex)
                {
                    Assert.Equal(KoErrorCodes.ConfigTemplate, ex.Code);
                }
            },
            2000);

    private static readonly string[] ManifestSeeds =
    [
        """
        # a comment
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: app, labels: {app: web}}
        spec:
          template:
            spec:
              containers:
              - name: app
                image: ko://example.com/app/cmd/app   # trailing comment
              - name: b
                image: "ko://example.com/app/cmd/b"
              - image: 'ko://example.com/app/cmd/c'
        ---
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {app: db}}, spec: {containers: [{image: ko://example.com/app/cmd/app}]}}
        """,
        "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\"},\"spec\":{\"containers\":[{\"image\":\"ko://example.com/x\"}]}}",
        "a: &anchor ko://example.com/x\nb: *anchor\nc: |\n  ko://not/a/ref\n",
        "apiVersion: v1\r\nkind: ConfigMap\r\nmetadata:\r\n  name: c\r\ndata:\r\n  x: ko://example.com/y\r\n",
        "- ko://a.example/b\n- [ko://a.example/c, {k: ko://a.example/d}]\n",
    ];

    private static readonly Dictionary<string, string> Resolved = new(StringComparer.Ordinal);

    private static string Replacement(string importPath) => "registry.test/r@sha256:" + TestUtil.Sha256Hex(Encoding.UTF8.GetBytes(importPath));

    // Every reference is replaced by its resolved name; everything outside the replaced ranges is kept byte for byte.
    [Fact]
    public Task Rewriter_only_throws_KoException_and_changes_only_the_references() =>
        CheckAsync(Hostile(400, ManifestSeeds), text => OnlyKoException(() =>
        {
            var file = ManifestFile.Parse("fuzz.yaml", text);
            var resolved = file.References.Select(r => r.ImportPath).Distinct().ToDictionary(p => p, Replacement, StringComparer.Ordinal);
            var output = file.Render(resolved);

            var expected = new StringBuilder();
            var pos = 0;
            foreach (var r in file.References.OrderBy(r => r.Start))
            {
                Assert.InRange(r.Start, pos, text.Length);
                Assert.InRange(r.End, r.Start, text.Length);
                if (r.Start > 0 && text[r.Start - 1] is '"' or '\'' && r.End < text.Length && text[r.End] == text[r.Start - 1])
                {
                    // A quoted scalar: its whole content goes, escapes included ("ko:\/\/x" is ko://x too).
                }
                else
                {
                    Assert.StartsWith("ko://", text[r.Start..r.End], StringComparison.Ordinal);
                }
                expected.Append(text, pos, r.Start - pos).Append(resolved[r.ImportPath]);
                pos = r.End;
            }

            expected.Append(text, pos, text.Length - pos);
            Assert.Equal(expected.ToString(), output);
            if (file.References.Count == 0)
            {
                Assert.Equal(text, output);
            }

            // The label-selector path reads labels and items of whatever shape the documents have.
            file.Render(resolved, LabelSelector.Parse("app=web"));
            foreach (var doc in file.Documents.Where(d => d.Root is not null))
            {
                ManifestFile.Labels(doc.Root!);
            }
        }), 2000);
}
