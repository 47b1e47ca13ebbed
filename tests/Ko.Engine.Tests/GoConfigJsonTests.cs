using System.Text;
using System.Text.Json.Nodes;
using Ko.Engine.Images;

namespace Ko.Engine.Tests;

/// <summary>
/// The config bytes ko writes: go-containerregistry's v1.ConfigFile (pkg/v1/config.go) marshalled by Go's
/// encoding/json, which is what ko's mutate.Append / mutate.Config produce.
/// </summary>
public sealed class GoConfigJsonTests
{
    [Fact]
    public void A_config_is_written_in_v1_ConfigFile_field_order_with_its_omitempty_rules_and_sorted_maps()
    {
        // Input in a scrambled order, with fields v1.ConfigFile lacks and empty values it omits.
        var input = JsonNode.Parse("""
            {"config":{"WorkingDir":"/w","Env":["PATH=/bin"],"Labels":{"z":"1","a":"<&>"},"ExposedPorts":{"8080/tcp":{"x":1},"443/tcp":{}},
              "Cmd":[],"User":"","Tty":false,"Healthcheck":{"Retries":3,"Test":["CMD","true"],"Interval":0},"Entrypoint":["/ko-app/x"],"Extra":"dropped"},
             "rootfs":{"diff_ids":["sha256:aa"],"type":"layers"},
             "os":"linux","history":[{"created_by":"b","created":"2020-01-02T03:04:05.120000000+00:00","empty_layer":true,"author":"","comment":"c"},{}],
             "container_config":{"Cmd":["x"]},"author":"github.com/ko-build/ko","architecture":"arm","variant":"v7","moby.buildkit.buildinfo.v1":"e30="}
            """)!.AsObject();

        var bytes = Encoding.UTF8.GetString(GoConfigJson.Serialize(input));

        // ConfigFile: architecture, author, container, created, docker_version, history, os, rootfs, config,
        // os.version, variant, os.features. Config: ..., Entrypoint, Env, ..., Labels, ..., User, Volumes,
        // WorkingDir, ExposedPorts, ...; HealthConfig: Test, Interval, Timeout, StartPeriod, StartInterval, Retries.
        // created is a struct (omitempty never omits it): Go's zero time when missing.
        const string Expected = "{\"architecture\":\"arm\",\"author\":\"github.com/ko-build/ko\",\"created\":\"0001-01-01T00:00:00Z\","
            + "\"history\":[{\"created\":\"2020-01-02T03:04:05.12Z\",\"created_by\":\"b\",\"comment\":\"c\",\"empty_layer\":true},{\"created\":\"0001-01-01T00:00:00Z\"}],"
            + "\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:aa\"]},"
            + "\"config\":{\"Healthcheck\":{\"Test\":[\"CMD\",\"true\"],\"Retries\":3},\"Entrypoint\":[\"/ko-app/x\"],\"Env\":[\"PATH=/bin\"],"
            + "\"Labels\":{\"a\":\"\\u003c\\u0026\\u003e\",\"z\":\"1\"},\"WorkingDir\":\"/w\",\"ExposedPorts\":{\"443/tcp\":{},\"8080/tcp\":{}}},"
            + "\"variant\":\"v7\"}";
        Assert.Equal(Expected, bytes);
    }

    [Fact]
    public void An_empty_config_still_has_the_fields_without_omitempty()
    {
        Assert.Equal("{\"architecture\":\"\",\"created\":\"0001-01-01T00:00:00Z\",\"os\":\"\",\"rootfs\":{\"type\":\"\",\"diff_ids\":null},\"config\":{}}", Encoding.UTF8.GetString(GoConfigJson.Serialize([])));
    }

    [Theory]
    [InlineData("a\"b\\c", "\"a\\\"b\\\\c\"")]
    [InlineData("\n\r\t\b\f\u0001", "\"\\n\\r\\t\\b\\f\\u0001\"")]
    [InlineData("\u2028\u2029é€", "\"\\u2028\\u2029é€\"")]
    public void Strings_are_escaped_as_Go_json_Marshal_escapes_them(string value, string json)
    {
        Assert.Equal(json, GoConfigJson.Quote(value));
    }

    [Fact]
    public void A_lone_surrogate_is_written_as_the_replacement_character_as_Go_decodes_it()
    {
        Assert.Equal("\"\ufffdx\"", GoConfigJson.Quote(new string(['\ud800', 'x'])));
    }

    [Theory]
    [InlineData("2023-11-14T22:13:20Z", "2023-11-14T22:13:20Z")]
    [InlineData("2023-11-14T22:13:20.000000000Z", "2023-11-14T22:13:20Z")]
    [InlineData("2023-11-14T22:13:20.123456789+02:00", "2023-11-14T22:13:20.123456789+02:00")]
    [InlineData("not a time", "0001-01-01T00:00:00Z")]
    [InlineData("2023-11-14 22:13:20", "0001-01-01T00:00:00Z")]
    public void Times_are_written_as_Go_marshals_a_time_and_bad_ones_are_the_zero_time(string input, string expected)
    {
        Assert.Equal(expected, GoConfigJson.Time(JsonValue.Create(input)));
    }

    [Fact]
    public void A_healthcheck_interval_that_is_not_a_whole_number_is_a_format_error()
    {
        var config = JsonNode.Parse("{\"config\":{\"Healthcheck\":{\"Interval\":1.5}}}")!.AsObject();
        Assert.Throws<FormatException>(() => GoConfigJson.Serialize(config));
    }
}
