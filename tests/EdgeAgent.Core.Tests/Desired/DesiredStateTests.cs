using System.Text;
using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Tests.Desired;

public sealed class DesiredStateTests
{
    private static (bool Ok, DesiredState? State, string Error) Parse(string json)
    {
        var ok = DesiredState.TryParse(Encoding.UTF8.GetBytes(json), out var state, out var error);
        return (ok, state, error);
    }

    [Fact]
    public void Valid_document_lists_the_desired_models_in_order()
    {
        var (ok, state, error) = Parse("""{"models":[{"name":"vibration","version":"1.2.0"},{"name":"pump-2","version":"0.1.0-rc.1"}]}""");

        Assert.True(ok, error);
        Assert.Equal([new DesiredModel("vibration", "1.2.0"), new DesiredModel("pump-2", "0.1.0-rc.1")], state!.Models);
        Assert.Empty(error);
    }

    [Fact]
    public void Empty_payload_means_nothing_is_desired()
    {
        Assert.True(DesiredState.TryParse([], out var state, out var error));
        Assert.Empty(state!.Models);
        Assert.Empty(error);
    }

    [Fact]
    public void Empty_models_array_means_nothing_is_desired()
    {
        var (ok, state, _) = Parse("""{"models":[]}""");

        Assert.True(ok);
        Assert.Empty(state!.Models);
    }

    [Fact]
    public void Serialized_state_parses_back_to_the_same_models()
    {
        var original = new DesiredState { Models = [new DesiredModel("vibration", "2.0.0")] };

        Assert.True(DesiredState.TryParse(original.ToJson(), out var parsed, out _));
        Assert.Equal(original.Models, parsed!.Models);
    }

    [Fact]
    public void Malformed_json_is_refused_as_not_valid_json()
    {
        var (ok, state, error) = Parse("""{"models":[""");

        Assert.False(ok);
        Assert.Null(state);
        Assert.Contains("not valid JSON", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Document_that_is_not_an_object_is_refused()
    {
        var (ok, _, error) = Parse("""[{"name":"vibration","version":"1.0.0"}]""");

        Assert.False(ok);
        Assert.Contains("JSON object", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{}")]
    [InlineData("""{"model":[]}""")]
    [InlineData("""{"models":{"name":"vibration"}}""")]
    public void Document_without_a_models_array_is_refused(string json)
    {
        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.Contains("\"models\" array", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"models":[{"version":"1.0.0"}]}""")]
    [InlineData("""{"models":[{"name":"vibration","version":1}]}""")]
    [InlineData("""{"models":["vibration"]}""")]
    public void Entry_without_string_name_and_version_is_refused(string json)
    {
        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.Contains("models[0]", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Vibration")]
    [InlineData("-vibration")]
    [InlineData("vib/ration")]
    [InlineData("")]
    public void Bad_model_name_is_refused_naming_the_entry_and_the_name(string name)
    {
        var (ok, _, error) = Parse($$"""{"models":[{"name":"ok","version":"1.0.0"},{"name":"{{name}}","version":"1.0.0"}]}""");

        Assert.False(ok);
        Assert.Contains($"models[1].name '{name}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_name_longer_than_64_characters_is_refused()
    {
        var (ok, _, error) = Parse($$"""{"models":[{"name":"{{new string('a', 65)}}","version":"1.0.0"}]}""");

        Assert.False(ok);
        Assert.Contains("models[0].name", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("latest")]
    [InlineData("v1.0.0")]
    public void Bad_version_is_refused_naming_the_entry_and_the_version(string version)
    {
        var (ok, _, error) = Parse($$"""{"models":[{"name":"vibration","version":"{{version}}"}]}""");

        Assert.False(ok);
        Assert.Contains($"models[0].version '{version}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_listed_twice_is_refused_naming_it()
    {
        var (ok, _, error) = Parse("""{"models":[{"name":"vibration","version":"1.0.0"},{"name":"vibration","version":"2.0.0"}]}""");

        Assert.False(ok);
        Assert.Contains("'vibration' is listed twice", error, StringComparison.Ordinal);
    }

    [Fact]
    public void More_models_than_the_limit_are_refused()
    {
        var models = string.Join(",", Enumerable.Range(0, DesiredState.MaxModels + 1).Select(i => $$"""{"name":"m{{i}}","version":"1.0.0"}"""));

        var (ok, _, error) = Parse($$"""{"models":[{{models}}]}""");

        Assert.False(ok);
        Assert.Contains($"more than {DesiredState.MaxModels} models", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Payload_over_64_KiB_is_refused_before_parsing()
    {
        var ok = DesiredState.TryParse(new byte[DesiredState.MaxBytes + 1], out var state, out var error);

        Assert.False(ok);
        Assert.Null(state);
        Assert.Contains("bytes", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Model_name_with_a_trailing_newline_is_refused()
    {
        var (ok, _, _) = Parse("""{"models":[{"name":"vibration\n","version":"1.0.0"}]}""");

        Assert.False(ok);
    }
}
