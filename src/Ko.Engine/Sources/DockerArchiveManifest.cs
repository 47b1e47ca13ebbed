using System.Text.Json;

namespace Ko.Engine.Sources;

/// <summary>One entry of a docker archive's <c>manifest.json</c>: the config file, the image's names and its layer files.</summary>
internal sealed record DockerArchiveManifest(string Config, IReadOnlyList<string> RepoTags, IReadOnlyList<string> Layers)
{
    /// <summary>Parses <c>manifest.json</c>: a list of objects with a string <c>Config</c>, string lists <c>RepoTags</c> (or null) and <c>Layers</c>.</summary>
    public static IReadOnlyList<DockerArchiveManifest> Parse(byte[] bytes, string where)
    {
        using var doc = Oci.OciJson.Parse(bytes, where);
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw Oci.OciJson.WrongType("manifest.json", "a list", doc.RootElement, where);
        }

        var result = new List<DockerArchiveManifest>();
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            var field = $"manifest.json[{result.Count}]";
            Oci.OciJson.Object(e, field, where);
            var config = Oci.OciJson.OptionalString(e, "Config", where, field + ".Config")
                ?? throw new FormatException($"{where}: {field} has no 'Config'.");
            result.Add(new DockerArchiveManifest(config, Strings(e, "RepoTags", field, where), Strings(e, "Layers", field, where)));
        }

        return result;
    }

    private static List<string> Strings(JsonElement e, string name, string field, string where)
    {
        if (!e.TryGetProperty(name, out var list) || list.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (list.ValueKind != JsonValueKind.Array)
        {
            throw Oci.OciJson.WrongType($"{field}.{name}", "a list", list, where);
        }

        return list.EnumerateArray().Select((s, i) => s.ValueKind == JsonValueKind.String
            ? s.GetString()!
            : throw Oci.OciJson.WrongType($"{field}.{name}[{i}]", "a string", s, where)).ToList();
    }
}
