using System.Diagnostics;
using System.Globalization;
using System.Text;
using CsCheck;

namespace Ko.Engine.Tests.Fuzz;

/// <summary>
/// Shared pieces of the fuzz/property suite: how many cases to run (<c>KO_FUZZ_ITERATIONS</c>, default small so the
/// suite fits in <c>./test.sh</c>), a per-case time bound, a whole-property time bound (a hang fails the test rather
/// than stalling the run), and generators of hostile text: mutations of realistic inputs and raw random strings.
/// </summary>
internal static class FuzzSupport
{
    /// <summary>A case slower than this is a failure (generous: the machine is shared; a real hang is much longer).</summary>
    public static readonly TimeSpan PerCase = TimeSpan.FromSeconds(3);

    /// <summary>Cases per property: <c>KO_FUZZ_ITERATIONS</c> when set (the long run), else <paramref name="fallback"/>.</summary>
    public static long Iterations(long fallback) =>
        long.TryParse(Environment.GetEnvironmentVariable("KO_FUZZ_ITERATIONS"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : fallback;

    /// <summary>The whole property may take this long before the test fails as hung (scaled for the long run).</summary>
    private static TimeSpan Whole(long iterations) => TimeSpan.FromSeconds(Math.Max(120, iterations / 50));

    /// <summary>
    /// Runs <paramref name="property"/> on <paramref name="iterations"/> generated cases (on one thread; CsCheck
    /// shrinks a failure to a small input and prints it with the seed to rerun it). Each case must finish within
    /// <see cref="PerCase"/>; the whole run is abandoned as a failure when it hangs.
    /// </summary>
    public static async Task CheckAsync<T>(Gen<T> gen, Action<T> property, long iterations, Func<T, string>? print = null)
    {
        var n = Iterations(iterations);
        var run = Task.Run(() => gen.Sample(
            value =>
            {
                var clock = Stopwatch.StartNew();
                property(value);
                clock.Stop();
                Assert.True(clock.Elapsed < PerCase, $"one case took {clock.Elapsed.TotalMilliseconds:F0} ms (bound {PerCase.TotalMilliseconds} ms)");
            },
            iter: n,
            threads: 1,
            print: print ?? (v => Show(v?.ToString() ?? "null"))));
        await run.WaitAsync(Whole(n));
    }

    /// <summary>As <see cref="CheckAsync{T}(Gen{T}, Action{T}, long, Func{T, string}?)"/> for an asynchronous property.</summary>
    public static async Task CheckEachAsync<T>(Gen<T> gen, Func<T, Task> property, long iterations, Func<T, string>? print = null)
    {
        var n = Iterations(iterations);
        var run = gen.SampleAsync(
            async value =>
            {
                var clock = Stopwatch.StartNew();
                await property(value);
                clock.Stop();
                Assert.True(clock.Elapsed < PerCase, $"one case took {clock.Elapsed.TotalMilliseconds:F0} ms (bound {PerCase.TotalMilliseconds} ms)");
            },
            iter: n,
            threads: 1,
            print: print ?? (v => Show(v?.ToString() ?? "null")));
        await run.WaitAsync(Whole(n));
    }

    /// <summary>Runs <paramref name="parse"/>; a <see cref="KoException"/> is an accepted answer, any other exception fails the property.</summary>
    public static void OnlyKoException(Action parse)
    {
        try
        {
            parse();
        }
        catch (KoException ex)
        {
            Assert.Matches(@"^KO\d{4}$", ex.Code);
            Assert.False(string.IsNullOrWhiteSpace(ex.Message));
        }
    }

    /// <summary>Shows a string with control and non-ASCII characters escaped, so a failing case can be pasted into a test.</summary>
    public static string Show(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s.Length > 2000 ? s[..2000] + "…" : s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when c < 0x20 || c > 0x7e => $"\\u{(int)c:x4}",
                _ => c.ToString(),
            });
        }

        return sb.Append('"').ToString();
    }

    /// <summary>Characters that break parsers: separators, quotes, escapes, controls, surrogates, non-ASCII.</summary>
    private const string Nasty = ":/@=,;\"'\\<>[]{}()!#&*?|%+-._~ \t\r\n\0\u0085\u00a0\u2028\ufeffé日\ud800\udc00";

    /// <summary>Any string, including controls, lone surrogates and non-ASCII, up to <paramref name="max"/> characters.</summary>
    public static Gen<string> RawString(int max = 80) =>
        Gen.Frequency(
            (3, Gen.Char.Array[0, max].Select(a => new string(a))),
            (3, Gen.Char[Nasty].Array[0, max].Select(a => new string(a))),
            (2, Gen.Char['\0', '\u007f'].Array[0, max].Select(a => new string(a))));

    /// <summary>A realistic input from <paramref name="seeds"/> with a few random edits (insert a nasty or random character, delete, repeat or swap a slice).</summary>
    public static Gen<string> Mutated(params string[] seeds) =>
        Gen.Select(Gen.OneOf(seeds), Gen.Int[0, int.MaxValue].Array[0, 12], Mutate);

    /// <summary>Raw random strings and mutated seeds, half each.</summary>
    public static Gen<string> Hostile(int max, params string[] seeds) =>
        Gen.Frequency((1, RawString(max)), (1, Mutated(seeds)));

    private static readonly string[] JsonReplacements =
    [
        "5", "-1", "0", "1e400", "9223372036854775808", "1.5", "\"x\"", "\"\"", "[]", "{}", "null", "true", "[5]", "[\"x\", 5]",
        "{\"a\":{}}", "\"sha256:zz\"", "\"sha256:" + new string('a', 64) + "\"", "[{}]", "[null]", "{\"os\":{}}",
        new string('[', 70) + new string(']', 70), new string('{', 1) + "\"a\":" + new string('[', 66) + new string(']', 66) + "}", "\"" + new string('y', 5000) + "\"",
    ];

    /// <summary>
    /// A JSON document from <paramref name="seeds"/> with one to three values (anywhere in the tree) replaced by a value of
    /// another type or shape: the "right JSON, wrong types" inputs a hostile base image or registry can send.
    /// </summary>
    public static Gen<string> MutatedJson(params string[] seeds) =>
        Gen.Select(Gen.OneOf(seeds), Gen.Int[0, int.MaxValue].Array[2, 6], (seed, ops) =>
        {
            var text = seed;
            for (var k = 0; k + 1 < ops.Length; k += 2)
            {
                text = ReplaceValue(text, ops[k], JsonReplacements[ops[k + 1] % JsonReplacements.Length]);
            }

            return text;
        });

    /// <summary>Malformed or mistyped JSON: value replacements, text mutations, and raw strings.</summary>
    public static Gen<string> HostileJson(params string[] seeds) =>
        Gen.Frequency((4, MutatedJson(seeds)), (2, Mutated(seeds)), (1, RawString(60)));

    // Replaces the value at the pick-th position (in document order) of the JSON text; the root included.
    private static string ReplaceValue(string json, int pick, string replacement)
    {
        System.Text.Json.Nodes.JsonNode? root;
        try
        {
            root = System.Text.Json.Nodes.JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 4096 });
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException)
        {
            return json;
        }

        try
        {
            return Replace(root, pick, replacement);
        }
        catch (ArgumentException)
        {
            return json; // a name written twice: the node model refuses it, so leave the text as it is
        }
    }

    private static string Replace(System.Text.Json.Nodes.JsonNode? root, int pick, string replacement)
    {
        var nodes = new List<System.Text.Json.Nodes.JsonNode>();
        var stack = new Stack<System.Text.Json.Nodes.JsonNode?>();
        stack.Push(root);
        while (stack.Count > 0 && nodes.Count < 5000)
        {
            var n = stack.Pop();
            if (n is null)
            {
                continue;
            }

            nodes.Add(n);
            foreach (var child in n switch
            {
                System.Text.Json.Nodes.JsonObject o => o.Select(kv => kv.Value),
                System.Text.Json.Nodes.JsonArray a => a.AsEnumerable(),
                _ => [],
            })
            {
                stack.Push(child);
            }
        }

        if (nodes.Count == 0)
        {
            return replacement; // the document is JSON null
        }

        var target = nodes[pick % nodes.Count];
        var value = System.Text.Json.Nodes.JsonNode.Parse(replacement, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 4096 });
        switch (target.Parent)
        {
            case System.Text.Json.Nodes.JsonObject o:
                o[target.GetPropertyName()] = value;
                break;
            case System.Text.Json.Nodes.JsonArray a:
                a[target.GetElementIndex()] = value;
                break;
            default:
                return replacement;
        }

        return root!.ToJsonString(new System.Text.Json.JsonSerializerOptions { MaxDepth = 4096 });
    }

    private static string Mutate(string seed, int[] ops)
    {
        var s = new StringBuilder(seed);
        for (var k = 0; k + 1 < ops.Length; k += 2)
        {
            var op = ops[k];
            var arg = ops[k + 1];
            var at = s.Length == 0 ? 0 : arg % (s.Length + 1);
            switch (op % 6)
            {
                case 0:
                    s.Insert(at, Nasty[arg % Nasty.Length]);
                    break;
                case 1:
                    s.Insert(at, (char)(arg % 0x3000));
                    break;
                case 2 when s.Length > 0:
                    s.Remove(Math.Min(at, s.Length - 1), 1 + (op / 6 % Math.Max(1, Math.Min(8, s.Length - Math.Min(at, s.Length - 1)))));
                    break;
                case 3 when s.Length > 0:
                {
                    var start = Math.Min(at, s.Length - 1);
                    var len = 1 + (op / 6 % Math.Min(16, s.Length - start));
                    var slice = s.ToString(start, len);
                    s.Insert(start, string.Concat(Enumerable.Repeat(slice, 1 + (op / 100 % 4))));
                    break;
                }

                case 4 when s.Length > 1:
                {
                    var i = at % s.Length;
                    var j = op / 6 % s.Length;
                    (s[i], s[j]) = (s[j], s[i]);
                    break;
                }

                default:
                    s.Insert(at, Nasty[op % Nasty.Length]);
                    break;
            }
        }

        return s.ToString();
    }
}
