using System.Text;
using Ko.Engine.Kubernetes;
using Ko.Engine.Manifests;

namespace Ko.Engine.Tests;

/// <summary>The ko:// rewriter over golden files: only the references change, byte for byte.</summary>
public sealed class ManifestsTests
{
    // A fixed reference map: no go, no registry.
    private static readonly Dictionary<string, string> Resolved = new(StringComparer.Ordinal)
    {
        ["example.com/app/cmd/controller"] = "registry.test/controller-1@sha256:" + new string('1', 64),
        ["example.com/app/cmd/webhook"] = "registry.test/webhook-2@sha256:" + new string('2', 64),
        ["example.com/app/cmd/init"] = "registry.test/init-3@sha256:" + new string('3', 64),
    };

    private static string Golden(string name) => Path.Combine(AppContext.BaseDirectory, "golden", name);

    private static string Read(string name) => new UTF8Encoding(false, true).GetString(File.ReadAllBytes(Golden(name)));

    [Theory]
    [InlineData("knative.yaml", "knative.resolved.yaml", 7)]
    [InlineData("crlf.yaml", "crlf.resolved.yaml", 2)]
    [InlineData("pod.json", "pod.resolved.json", 2)]
    public void Only_the_references_change(string input, string expected, int references)
    {
        var text = Read(input);
        var file = ManifestFile.Parse(input, text);
        Assert.Equal(references, file.References.Count);

        var output = file.Render(Resolved);
        Assert.Equal(File.ReadAllBytes(Golden(expected)), Encoding.UTF8.GetBytes(output));

        // Independently of the golden file: putting the ko:// texts back gives the input, byte for byte.
        var back = output;
        foreach (var (path, reference) in Resolved)
        {
            back = back.Replace(reference, "ko://" + path, StringComparison.Ordinal);
        }

        Assert.Equal(text, back);
    }

    [Fact]
    public void Block_scalars_comments_and_text_mentioning_ko_are_not_references()
    {
        var output = ManifestFile.Parse("knative.yaml", Read("knative.yaml")).Render(Resolved);
        Assert.Contains("# ko://example.com/in/a/comment stays a comment.", output);
        Assert.Contains("      image: ko://example.com/app/cmd/controller\n      keep this text", output);
        Assert.Contains("    folded: >-\n      ko://example.com/app/cmd/webhook\n", output);
        Assert.Contains("value: \"see ko://example.com/app/cmd/webhook\"", output);
        Assert.Contains("image: 'registry.test/init-3@sha256:", output);
        Assert.Contains("image: \"registry.test/controller-1@sha256:", output);
        Assert.Contains("*shared", output);
        Assert.Contains("\r\n    - |\r\n      ko://example.com/app/cmd/init\r\n", ManifestFile.Parse("crlf.yaml", Read("crlf.yaml")).Render(Resolved));
    }

    [Fact]
    public void References_carry_their_line_and_column()
    {
        var file = ManifestFile.Parse("knative.yaml", Read("knative.yaml"));
        var init = Assert.Single(file.References, r => r.ImportPath == "example.com/app/cmd/init");
        Assert.Equal(20, init.Line);
        Assert.Equal(16, init.Column);
        var crlf = ManifestFile.Parse("crlf.yaml", Read("crlf.yaml"));
        Assert.Equal((10, 12), (crlf.References[0].Line, crlf.References[0].Column));
        Assert.Equal((15, 12), (crlf.References[1].Line, crlf.References[1].Column));
    }

    [Fact]
    public void Documents_include_the_comment_only_one_and_objects_expand_lists()
    {
        var file = ManifestFile.Parse("knative.yaml", Read("knative.yaml"));
        Assert.Equal(4, file.Documents.Count);
        var objects = KubeObject.From(file);
        Assert.Equal(["Deployment/controller", "Deployment/webhook", "ConfigMap/images", "ConfigMap/other"], objects.Select(o => $"{o.Kind}/{o.Name}"));
        Assert.Equal("apps", objects[0].Group);
        Assert.Equal("", objects[2].Group);
    }

    [Fact]
    public void A_selector_keeps_matching_documents_and_list_items_as_written()
    {
        var file = ManifestFile.Parse("knative.yaml", Read("knative.yaml"));
        var output = file.Render(Resolved, LabelSelector.Parse("app in (controller)"));
        Assert.Equal(File.ReadAllBytes(Golden("knative.controller.yaml")), Encoding.UTF8.GetBytes(output));
        Assert.DoesNotContain("name: webhook", output);
        Assert.DoesNotContain("name: other", output);
        Assert.Contains("name: images", output);
        Assert.Contains("# name", output);

        var objects = KubeObject.From(ManifestFile.Parse("out", output));
        Assert.Equal(["Deployment/controller", "ConfigMap/images"], objects.Select(o => $"{o.Kind}/{o.Name}"));
    }

    [Fact]
    public void A_selector_removes_flow_style_list_items()
    {
        const string text = "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"A\", \"metadata\": {\"labels\": {\"x\": \"1\"}}}, {\"apiVersion\": \"v1\", \"kind\": \"B\", \"metadata\": {\"labels\": {\"x\": \"2\"}}}]}\n";
        var output = ManifestFile.Parse("list.json", text).Render(Resolved, LabelSelector.Parse("x=1"));
        Assert.Equal("{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"apiVersion\": \"v1\", \"kind\": \"A\", \"metadata\": {\"labels\": {\"x\": \"1\"}}}]}\n", output);
    }

    [Theory]
    // ko pkg/resolve/selector.go MatchesSelector: a document, or a List item, that is not an object with apiVersion
    // and kind is an error under a selector ("yaml doesn't represent a k8s object"); a List without items too.
    [InlineData("apiVersion: v1\nkind: A\n---\n- just\n- a list\n", 4)]
    [InlineData("plain: mapping\n", 1)]
    [InlineData("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: A\n- 42\n", 6)]
    [InlineData("apiVersion: v1\nkind: List\n", 1)]
    public void A_selector_on_a_document_that_is_not_an_object_is_ko4011_with_its_line(string text, int line)
    {
        var ex = Assert.Throws<KoException>(() => ManifestFile.Parse("in.yaml", text).Render(Resolved, LabelSelector.Parse("x=1")));

        Assert.Equal("KO4011", ex.Code);
        Assert.StartsWith($"in.yaml:{line}: ", ex.Message);
    }

    [Fact]
    public void A_selector_skips_empty_and_null_documents_as_ko()
    {
        var output = ManifestFile.Parse("in.yaml", "---\n~\n---\napiVersion: v1\nkind: A\nmetadata: {labels: {x: \"1\"}}\n").Render(Resolved, LabelSelector.Parse("x=1"));

        Assert.Contains("kind: A", output);
    }

    [Fact]
    public void Object_json_types_plain_scalars_as_yaml_does()
    {
        const string text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\ndata:\n  a: \"1\"\n  b: 2\n  c: true\n  d: ~\n  e: '3.5'\n  f: 1.5\n  g: ko://x\n";
        var obj = Assert.Single(KubeObject.From(ManifestFile.Parse("x", text)));
        Assert.Equal("{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"n\"},\"data\":{\"a\":\"1\",\"b\":2,\"c\":true,\"d\":null,\"e\":\"3.5\",\"f\":1.5,\"g\":\"ko://x\"}}", Encoding.UTF8.GetString(obj.Json));
    }

    // A node that holds itself through an alias: the JSON for the API server recursed to its depth limit along every
    // branch (2^200 visits for two aliases); yaml.v3 (ko) refuses the document too.
    [Theory]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\ndata: &d [*d, *d]\n", "4:11", "*d")]
    [InlineData("apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: n\n  labels: {x: *m}\n", "5:15", "*m")]
    public async Task A_node_that_contains_itself_through_an_alias_is_KO4001_naming_the_alias(string text, string at, string alias)
    {
        var parse = Task.Run(() => KubeObject.From(ManifestFile.Parse("cycle.yaml", text)));

        Assert.Same(parse, await Task.WhenAny(parse, Task.Delay(TimeSpan.FromSeconds(20))));
        var ex = await Assert.ThrowsAsync<KoException>(() => parse);
        Assert.Equal(KoErrorCodes.InvalidManifest, ex.Code);
        Assert.StartsWith($"cycle.yaml:{at}: the alias {alias} is inside the node that &{alias[1..]} names", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Invalid_yaml_names_file_line_and_column()
    {
        var ex = Assert.Throws<KoException>(() => ManifestFile.Parse("bad.yaml", "a: b\nc: [d\ne: f\n"));
        Assert.Equal(KoErrorCodes.InvalidManifest, ex.Code);
        Assert.Matches(@"^bad\.yaml:\d+:\d+: invalid YAML", ex.Message);
    }

    [Fact]
    public void An_empty_reference_is_an_error_with_its_position()
    {
        var ex = Assert.Throws<KoException>(() => ManifestFile.Parse("e.yaml", "a:\n  image: ko://\n"));
        Assert.Equal(KoErrorCodes.InvalidReference, ex.Code);
        Assert.StartsWith("e.yaml:2:10:", ex.Message);
    }

    [Fact]
    public void Files_join_with_a_separator()
    {
        // ko (pkg/commands/resolver.go) ends every file's output with a "---" line.
        Assert.Equal("a: 1\n---\nb: 2\n---\nc: 3\n---\n", ManifestReader.Join(["a: 1", "b: 2\n", "", "---\nc: 3"]));
    }

    [Fact]
    public async Task Directories_give_yaml_yml_and_json_sorted_and_recursive_only_with_R()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ko-manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "b.yml"), "b: 1\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "a.yaml"), "a: 1\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "c.json"), "{\"c\": 1}\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "d.txt"), "d: 1\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "sub", "e.yaml"), "e: 1\n");
            var flat = await ManifestReader.ReadAsync([dir], recursive: false, null, CancellationToken.None);
            Assert.Equal(["a.yaml", "b.yml", "c.json"], flat.Select(f => Path.GetFileName(f.Source)));
            var deep = await ManifestReader.ReadAsync([dir], recursive: true, null, CancellationToken.None);
            Assert.Equal(["a.yaml", "b.yml", "c.json", "e.yaml"], deep.Select(f => Path.GetFileName(f.Source)));
            var stdin = await ManifestReader.ReadAsync(["-"], false, new StringReader("x: ko://a/b\n"), CancellationToken.None);
            Assert.Equal("a/b", Assert.Single(Assert.Single(stdin).References).ImportPath);
            var missing = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync([Path.Combine(dir, "nope.yaml")], false, null, CancellationToken.None));
            Assert.Equal(KoErrorCodes.ManifestUnreadable, missing.Code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Recursive_reading_does_not_follow_links_to_directories()
    {
        // A link back up (a loop) read every file once per level until the kernel's 40-link limit; a link to / read
        // the whole machine's YAML into the output.
        var dir = Path.Combine(Path.GetTempPath(), "ko-manifests-" + Guid.NewGuid().ToString("N"));
        var outside = Path.Combine(Path.GetTempPath(), "ko-outside-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        Directory.CreateDirectory(outside);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "a.yaml"), "a: 1\n");
            await File.WriteAllTextAsync(Path.Combine(outside, "secret.yaml"), "s: 1\n");
            await File.WriteAllTextAsync(Path.Combine(outside, "linked.yaml"), "l: 1\n");
            Directory.CreateSymbolicLink(Path.Combine(dir, "sub", "back"), dir);
            Directory.CreateSymbolicLink(Path.Combine(dir, "elsewhere"), outside);
            File.CreateSymbolicLink(Path.Combine(dir, "sub", "linked.yaml"), Path.Combine(outside, "linked.yaml"));

            var files = await ManifestReader.ReadAsync([dir], recursive: true, null, CancellationToken.None);

            Assert.Equal([Path.Combine(dir, "a.yaml"), Path.Combine(dir, "sub", "linked.yaml")], files.Select(f => f.Source));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
            Directory.Delete(outside, recursive: true);
        }
    }

    [Fact]
    public async Task A_missing_file_or_one_that_is_not_UTF8_is_a_sentence()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ko-manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var bad = Path.Combine(dir, "bad.yaml");
            await File.WriteAllBytesAsync(bad, [(byte)'a', (byte)':', (byte)' ', 0xFF, 0xFE, (byte)'\n']);

            var missing = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync([Path.Combine(dir, "nope.yaml")], false, null, CancellationToken.None));
            var notUtf8 = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync([bad], false, null, CancellationToken.None));

            Assert.DoesNotContain("..", missing.Message);
            Assert.Equal(KoErrorCodes.ManifestUnreadable, notUtf8.Code);
            Assert.Contains("UTF-8", notUtf8.Message);
            Assert.DoesNotContain("code page", notUtf8.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_FIFO_inside_a_directory_is_KO4002_not_a_hang()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ko-manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "a.yaml"), "a: 1\n");
            TestUtil.Run("mkfifo", Path.Combine(dir, "b.yaml"));

            var read = Task.Run(() => ManifestReader.ReadAsync([dir], recursive: false, null, CancellationToken.None));
            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10)));
            if (finished != read)
            {
                await using var unblock = new FileStream(Path.Combine(dir, "b.yaml"), FileMode.Open, FileAccess.Write);
            }

            Assert.Same(read, finished);
            var ex = await Assert.ThrowsAsync<KoException>(() => read);
            Assert.Equal(KoErrorCodes.ManifestUnreadable, ex.Code);
            Assert.Contains("b.yaml", ex.Message);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task An_endless_standard_input_is_refused_at_the_cap_not_read_into_memory()
    {
        var endless = new RepeatingReader("# filler line of a very long stream\n", ManifestReader.MaxBytes + (1 << 20));

        var ex = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync(["-"], false, endless, CancellationToken.None));

        Assert.Equal(KoErrorCodes.ManifestUnreadable, ex.Code);
        Assert.Contains("standard input", ex.Message);
        Assert.True(endless.CharsRead <= ManifestReader.MaxBytes + (1 << 16), $"read {endless.CharsRead} characters");
    }

    [Fact]
    public async Task A_file_larger_than_the_cap_is_refused_and_dev_zero_ends()
    {
        var dir = Path.Combine(Path.GetTempPath(), "ko-manifests-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var big = Path.Combine(dir, "big.yaml");
            await using (var f = File.Create(big))
            {
                f.SetLength(ManifestReader.MaxBytes + 1);
            }

            var ex = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync([big], false, null, CancellationToken.None));
            Assert.Equal(KoErrorCodes.ManifestUnreadable, ex.Code);
            Assert.Contains(big, ex.Message);

            var zero = await Assert.ThrowsAsync<KoException>(() => ManifestReader.ReadAsync(["/dev/zero"], false, null, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60)));
            Assert.Equal(KoErrorCodes.ManifestUnreadable, zero.Code);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Standard input that repeats a line until <c>limit</c> characters (a stand-in for an endless pipe).</summary>
    private sealed class RepeatingReader(string line, long limit) : TextReader
    {
        public long CharsRead { get; private set; }

        public override int Read(char[] buffer, int index, int count) => Read(buffer.AsSpan(index, count));

        public override int Read(Span<char> buffer)
        {
            var n = (int)Math.Min(buffer.Length, limit - CharsRead);
            for (var i = 0; i < n; i++)
            {
                buffer[i] = line[(int)((CharsRead + i) % line.Length)];
            }

            CharsRead += n;
            return n;
        }

        public override ValueTask<int> ReadAsync(Memory<char> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(char[] buffer, int index, int count) => Task.FromResult(Read(buffer, index, count));

        public override int Peek() => CharsRead < limit ? line[(int)(CharsRead % line.Length)] : -1;

        public override int Read()
        {
            Span<char> one = stackalloc char[1];
            return Read(one) == 0 ? -1 : one[0];
        }
    }
}

/// <summary>Label selector parsing and matching.</summary>
public sealed class ManifestsSelectorTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["app"] = "web", ["tier"] = "front", ["env"] = "prod" };

    [Theory]
    [InlineData("app=web", true)]
    [InlineData("app==web", true)]
    [InlineData("app=db", false)]
    [InlineData("app!=db", true)]
    [InlineData("app!=web", false)]
    [InlineData("missing!=x", true)]
    [InlineData("env in (prod,staging)", true)]
    [InlineData("env in (staging)", false)]
    [InlineData("env notin (staging, dev)", true)]
    [InlineData("env notin (prod)", false)]
    [InlineData("missing notin (prod)", true)]
    [InlineData("tier", true)]
    [InlineData("missing", false)]
    [InlineData("!missing", true)]
    [InlineData("!tier", false)]
    [InlineData("app=web,tier=front,env in (prod),!legacy", true)]
    [InlineData("app=web,tier=back", false)]
    [InlineData(" app = web , example.com/x notin (y) ", true)]
    [InlineData("", true)]
    public void Matches(string selector, bool expected) =>
        Assert.Equal(expected, LabelSelector.Parse(selector).Matches(Labels));

    [Fact]
    public void Parses_requirements()
    {
        var s = LabelSelector.Parse("a=b,c!=d,e in (f,g),!h,i");
        Assert.Equal(
            ["a Equals b", "c NotEquals d", "e In f|g", "h DoesNotExist ", "i Exists "],
            s.Requirements.Select(r => $"{r.Key} {r.Operator} {string.Join('|', r.Values)}"));
    }

    [Theory]
    [InlineData("a in (b")]
    [InlineData("a in b)")]
    [InlineData("a,,b")]
    [InlineData("a foo (b)")]
    [InlineData("a=b c")]
    [InlineData("=b")]
    [InlineData("a in ()")]
    public void Rejects_bad_selectors(string selector)
    {
        var ex = Assert.Throws<KoException>(() => LabelSelector.Parse(selector));
        Assert.Equal(KoErrorCodes.InvalidSelector, ex.Code);
    }
}
