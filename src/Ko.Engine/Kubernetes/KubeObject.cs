using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Ko.Engine.Manifests;
using YamlDotNet.Core;

namespace Ko.Engine.Kubernetes;

/// <summary>One Kubernetes object read from a manifest, with its JSON body for the API server.</summary>
internal sealed record KubeObject(string ApiVersion, string Kind, string Name, string? Namespace, byte[] Json, string Source)
{
    /// <summary>The group of <see cref="ApiVersion"/> (empty for the core group).</summary>
    public string Group => ApiVersion.Contains('/') ? ApiVersion[..ApiVersion.IndexOf('/')] : string.Empty;

    /// <summary>The version of <see cref="ApiVersion"/>.</summary>
    public string Version => ApiVersion.Contains('/') ? ApiVersion[(ApiVersion.IndexOf('/') + 1)..] : ApiVersion;

    /// <summary>Namespaces first, then CustomResourceDefinitions, then the rest, each in input order.</summary>
    public int Rank => Kind switch
    {
        "Namespace" when Group.Length == 0 => 0,
        "CustomResourceDefinition" when Group == "apiextensions.k8s.io" => 1,
        _ => 2,
    };

    /// <summary>The objects of every document (the items of a <c>List</c>), in input order; empty documents are skipped.</summary>
    public static IReadOnlyList<KubeObject> From(ManifestFile file)
    {
        var result = new List<KubeObject>();
        foreach (var doc in file.Documents)
        {
            if (doc.Root is null || doc.Root.IsNullScalar)
            {
                continue;
            }

            if (ManifestFile.IsList(doc.Root))
            {
                foreach (var item in doc.Root.Get("items")!.Items)
                {
                    result.Add(Of(file.Source, item));
                }
            }
            else
            {
                result.Add(Of(file.Source, doc.Root));
            }
        }

        return result;
    }

    /// <summary>Orders objects as they must reach a cluster: namespaces and CRDs first.</summary>
    public static IReadOnlyList<KubeObject> ApplyOrder(IEnumerable<KubeObject> objects) => objects.OrderBy(o => o.Rank).ToList();

    private static KubeObject Of(string source, YamlNode node)
    {
        var apiVersion = node.GetString("apiVersion");
        var kind = node.GetString("kind");
        var metadata = node.Get("metadata");
        var name = metadata?.GetString("name");
        if (node.Kind != YamlNodeKind.Mapping || apiVersion is null || kind is null || name is null)
        {
            throw new KoException(KoErrorCodes.InvalidObject, $"{source}: a document at character {node.Start} is not a Kubernetes object: it needs apiVersion, kind and metadata.name.");
        }

        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, node, 0);
        }

        return new KubeObject(apiVersion, kind, name, metadata!.GetString("namespace"), buffer.ToArray(), source);
    }

    private static readonly Regex Int = new(@"^[-+]?(0|[1-9][0-9]*)$", RegexOptions.CultureInvariant);
    private static readonly Regex Float = new(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$", RegexOptions.CultureInvariant);

    private static void Write(Utf8JsonWriter writer, YamlNode node, int depth)
    {
        if (depth > 200)
        {
            throw new KoException(KoErrorCodes.InvalidManifest, "a document nests deeper than 200 levels (or its aliases form a cycle).");
        }

        switch (node.Kind)
        {
            case YamlNodeKind.Mapping:
                writer.WriteStartObject();
                for (var i = 0; i + 1 < node.Items.Count; i += 2)
                {
                    writer.WritePropertyName(node.Items[i].Value);
                    Write(writer, node.Items[i + 1], depth + 1);
                }

                writer.WriteEndObject();
                break;
            case YamlNodeKind.Sequence:
                writer.WriteStartArray();
                foreach (var item in node.Items)
                {
                    Write(writer, item, depth + 1);
                }

                writer.WriteEndArray();
                break;
            default:
                WriteScalar(writer, node);
                break;
        }
    }

    // YAML's core schema for plain scalars: null, booleans, integers and floats; everything else is a string.
    private static void WriteScalar(Utf8JsonWriter writer, YamlNode node)
    {
        if (node.Style != ScalarStyle.Plain)
        {
            writer.WriteStringValue(node.Value);
            return;
        }

        var v = node.Value;
        if (node.IsNullScalar)
        {
            writer.WriteNullValue();
        }
        else if (v is "true" or "True" or "TRUE")
        {
            writer.WriteBooleanValue(true);
        }
        else if (v is "false" or "False" or "FALSE")
        {
            writer.WriteBooleanValue(false);
        }
        else if (Int.IsMatch(v) && long.TryParse(v, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
        {
            writer.WriteNumberValue(l);
        }
        else if (Float.IsMatch(v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d))
        {
            writer.WriteNumberValue(d);
        }
        else
        {
            writer.WriteStringValue(v);
        }
    }
}
