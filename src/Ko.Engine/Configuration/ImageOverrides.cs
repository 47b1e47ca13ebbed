using System.Text.Json.Nodes;
using Ko.Engine.Images;
using Ko.Engine.Oci;

namespace Ko.Engine.Configuration;

/// <summary>
/// Applies the image keys ko lacks (runtime <c>imageEnv</c>, <c>entrypoint</c>, <c>args</c>) to an assembled image: the
/// config is edited and serialised once, then hashed and described by a new manifest. The assembled image it
/// starts from is never written anywhere.
/// </summary>
internal static class ImageOverrides
{
    public static bool Needed(BuildSettings settings) => settings.ImageEnv.Count > 0 || settings.Entrypoint is not null || settings.Args is not null;

    public static IImage Apply(IImage image, BuildSettings settings, string where)
    {
        if (!Needed(settings))
        {
            return image;
        }

        var config = ImageConfig.ParseObject(image.ConfigBytes.Span, where);
        var inner = ImageConfig.ChildObject(config, "config");
        if (settings.ImageEnv.Count > 0)
        {
            var env = ImageConfig.ChildArray(inner, "Env");
            foreach (var kv in settings.ImageEnv)
            {
                var key = kv[..(kv.IndexOf('=', StringComparison.Ordinal) + 1)];
                var existing = env.Select((e, i) => (e, i)).FirstOrDefault(x => x.e?.GetValue<string>().StartsWith(key, StringComparison.Ordinal) == true);
                if (existing.e is not null)
                {
                    env[existing.i] = kv;
                }
                else
                {
                    env.Add((JsonNode)JsonValue.Create(kv));
                }
            }
        }

        if (settings.Entrypoint is { } entrypoint)
        {
            inner["Entrypoint"] = new JsonArray(entrypoint.Select(e => (JsonNode?)e).ToArray());
        }

        if (settings.Args is { } args)
        {
            inner["Cmd"] = new JsonArray(args.Select(a => (JsonNode?)a).ToArray());
        }

        var configBytes = OciJson.Serialize(config);
        var manifest = image.Manifest with { Config = image.Manifest.Config with { Digest = Digest.Sha256(configBytes), Size = configBytes.Length } };
        return new Image(manifest.ToBytes(), configBytes, image.Layers, where);
    }
}
