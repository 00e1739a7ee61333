using System.Text;
using System.Text.Json;
using EdgeAgent.Core.Desired;

namespace EdgeAgent.Core.Tests.Desired;

/// <summary>Group/device merging and the optional rollout fields of a desired model.</summary>
public sealed class DesiredMergeTests
{
    private static DesiredState State(params DesiredModel[] models) => new() { Models = models };

    private static (bool Ok, DesiredState? State, string Error) Parse(string json)
    {
        var ok = DesiredState.TryParse(Encoding.UTF8.GetBytes(json), out var state, out var error);
        return (ok, state, error);
    }

    private static string OneModel(string options) => $$"""{"models":[{"name":"vibration","version":"1.0.0"{{options}}}]}""";

    [Fact]
    public void Device_entry_wins_over_every_group()
    {
        var device = State(new DesiredModel("vibration", "3.0.0"));
        var groups = new[] { State(new DesiredModel("vibration", "1.0.0")), State(new DesiredModel("vibration", "2.0.0")) };

        var merged = DesiredState.Merge(device, groups);

        Assert.Equal([new DesiredModel("vibration", "3.0.0")], merged.Models);
    }

    [Fact]
    public void Earlier_group_wins_over_a_later_one()
    {
        var groups = new[] { State(new DesiredModel("pump", "1.0.0")), State(new DesiredModel("pump", "2.0.0")) };

        var merged = DesiredState.Merge(DesiredState.Empty, groups);

        Assert.Equal([new DesiredModel("pump", "1.0.0")], merged.Models);
    }

    [Fact]
    public void Models_of_the_device_and_all_groups_are_united_in_name_order()
    {
        var device = State(new DesiredModel("vibration", "3.0.0"), new DesiredModel("alpha", "0.1.0"));
        var groups = new[]
        {
            State(new DesiredModel("pump", "1.0.0"), new DesiredModel("vibration", "1.0.0")),
            State(new DesiredModel("pump", "2.0.0"), new DesiredModel("mixer", "4.0.0")),
        };

        var merged = DesiredState.Merge(device, groups);

        Assert.Equal(
            [new DesiredModel("alpha", "0.1.0"), new DesiredModel("mixer", "4.0.0"), new DesiredModel("pump", "1.0.0"), new DesiredModel("vibration", "3.0.0")],
            merged.Models);
    }

    [Fact]
    public void Names_are_ordered_ordinally()
    {
        var merged = DesiredState.Merge(State(new DesiredModel("b", "1.0.0"), new DesiredModel("B", "1.0.0"), new DesiredModel("a", "1.0.0")), []);

        Assert.Equal(["B", "a", "b"], merged.Models.Select(m => m.Name));
    }

    [Fact]
    public void The_winning_entry_is_taken_whole_with_its_options()
    {
        var device = State(new DesiredModel("vibration", "2.0.0"));
        var group = State(new DesiredModel("vibration", "2.0.0") { ProbationSeconds = 60, ActivateAfter = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero) });

        var merged = DesiredState.Merge(device, [group]);

        var model = Assert.Single(merged.Models);
        Assert.Null(model.ProbationSeconds);
        Assert.Null(model.ActivateAfter);
    }

    [Fact]
    public void Group_options_come_along_with_a_group_entry()
    {
        var fromGroup = new DesiredModel("pump", "1.0.0") { ProbationRequests = 500 };

        var merged = DesiredState.Merge(DesiredState.Empty, [State(fromGroup)]);

        Assert.Equal([fromGroup], merged.Models);
    }

    [Fact]
    public void Nothing_desired_anywhere_merges_to_nothing()
    {
        Assert.Empty(DesiredState.Merge(DesiredState.Empty, [DesiredState.Empty]).Models);
    }

    [Fact]
    public void Merge_refuses_null_arguments()
    {
        Assert.Throws<ArgumentNullException>(() => DesiredState.Merge(null!, []));
        Assert.Throws<ArgumentNullException>(() => DesiredState.Merge(DesiredState.Empty, null!));
    }

    [Fact]
    public void Optional_fields_are_null_when_absent()
    {
        var (ok, state, error) = Parse(OneModel(string.Empty));

        Assert.True(ok, error);
        var model = Assert.Single(state!.Models);
        Assert.Null(model.ActivateAfter);
        Assert.Null(model.ProbationSeconds);
        Assert.Null(model.ProbationRequests);
    }

    [Fact]
    public void Optional_fields_set_to_null_are_accepted_as_absent()
    {
        var (ok, state, error) = Parse(OneModel(""","activateAfter":null,"probationSeconds":null,"probationRequests":null"""));

        Assert.True(ok, error);
        Assert.Equal([new DesiredModel("vibration", "1.0.0")], state!.Models);
    }

    [Theory]
    [InlineData("2026-11-27T02:00:00Z")]
    [InlineData("2026-11-27T04:00:00+02:00")]
    [InlineData("2026-11-26T21:00:00-05:00")]
    [InlineData("2026-11-27T02:00:00.000Z")]
    [InlineData("2026-11-27T02:00:00")]
    public void Activate_after_is_read_as_an_instant(string text)
    {
        var (ok, state, error) = Parse(OneModel($$""","activateAfter":"{{text}}" """));

        Assert.True(ok, error);
        var at = Assert.Single(state!.Models).ActivateAfter;
        Assert.NotNull(at);
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero).UtcDateTime, at.Value.UtcDateTime);
    }

    [Fact]
    public void Activate_after_keeps_its_offset()
    {
        var (ok, state, error) = Parse(OneModel(""","activateAfter":"2026-11-27T04:00:00+02:00" """));

        Assert.True(ok, error);
        Assert.Equal(TimeSpan.FromHours(2), state!.Models[0].ActivateAfter!.Value.Offset);
    }

    [Theory]
    [InlineData("\"tomorrow\"")]
    [InlineData("\"\"")]
    [InlineData("\"2026-13-01T00:00:00Z\"")]
    [InlineData("\"2026-11-27T25:00:00Z\"")]
    [InlineData("1764208800")]
    [InlineData("true")]
    [InlineData("{}")]
    public void Invalid_activate_after_is_refused_naming_the_entry(string value)
    {
        var json = $$"""{"models":[{"name":"pump","version":"1.0.0"},{"name":"vibration","version":"1.0.0","activateAfter":{{value}}}]}""";

        var (ok, state, error) = Parse(json);

        Assert.False(ok);
        Assert.Null(state);
        Assert.StartsWith("models[1].activateAfter must be an ISO 8601 time", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("300", 300)]
    [InlineData("604800", 604800)]
    public void Probation_seconds_up_to_a_week_are_accepted(string value, int expected)
    {
        var (ok, state, error) = Parse(OneModel($",\"probationSeconds\":{value}"));

        Assert.True(ok, error);
        Assert.Equal(expected, state!.Models[0].ProbationSeconds);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("604801")]
    [InlineData("1.5")]
    [InlineData("10000000000")]
    [InlineData("\"300\"")]
    [InlineData("true")]
    public void Invalid_probation_seconds_are_refused(string value)
    {
        var (ok, state, error) = Parse(OneModel($",\"probationSeconds\":{value}"));

        Assert.False(ok);
        Assert.Null(state);
        Assert.Equal("models[0].probationSeconds must be a whole number from 0 to 604800", error);
    }

    [Theory]
    [InlineData("0", 0)]
    [InlineData("1000", 1000)]
    [InlineData("100000000", 100_000_000)]
    public void Probation_requests_up_to_a_hundred_million_are_accepted(string value, int expected)
    {
        var (ok, state, error) = Parse(OneModel($",\"probationRequests\":{value}"));

        Assert.True(ok, error);
        Assert.Equal(expected, state!.Models[0].ProbationRequests);
    }

    [Theory]
    [InlineData("-5")]
    [InlineData("100000001")]
    [InlineData("2.5")]
    [InlineData("\"many\"")]
    public void Invalid_probation_requests_are_refused(string value)
    {
        var (ok, state, error) = Parse(OneModel($",\"probationRequests\":{value}"));

        Assert.False(ok);
        Assert.Null(state);
        Assert.Equal("models[0].probationRequests must be a whole number from 0 to 100000000", error);
    }

    [Fact]
    public void Error_names_the_entry_that_carries_the_bad_field()
    {
        var json = """{"models":[{"name":"a","version":"1.0.0","probationSeconds":5},{"name":"b","version":"1.0.0"},{"name":"c","version":"1.0.0","probationRequests":-1}]}""";

        var (ok, _, error) = Parse(json);

        Assert.False(ok);
        Assert.StartsWith("models[2].probationRequests", error, StringComparison.Ordinal);
    }

    [Fact]
    public void All_optional_fields_are_read_together()
    {
        var (ok, state, error) = Parse(OneModel(""","activateAfter":"2026-11-27T02:00:00Z","probationSeconds":600,"probationRequests":250"""));

        Assert.True(ok, error);
        Assert.Equal(
            [new DesiredModel("vibration", "1.0.0") { ActivateAfter = new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero), ProbationSeconds = 600, ProbationRequests = 250 }],
            state!.Models);
    }

    [Fact]
    public void Json_round_trip_keeps_the_optional_fields()
    {
        var original = State(
            new DesiredModel("pump", "2.0.0"),
            new DesiredModel("vibration", "1.0.0") { ActivateAfter = new DateTimeOffset(2026, 11, 27, 4, 30, 0, TimeSpan.FromHours(2)), ProbationSeconds = 0, ProbationRequests = 100_000_000 });

        Assert.True(DesiredState.TryParse(original.ToJson(), out var parsed, out var error), error);

        Assert.Equal(original.Models, parsed!.Models);
        Assert.Equal(TimeSpan.FromHours(2), parsed.Models[1].ActivateAfter!.Value.Offset);
        Assert.Equal(0, parsed.Models[1].ProbationSeconds);
    }

    [Fact]
    public void Json_names_the_optional_fields_in_camel_case()
    {
        var state = State(new DesiredModel("vibration", "1.0.0") { ActivateAfter = new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero), ProbationSeconds = 60, ProbationRequests = 7 });

        using var doc = JsonDocument.Parse(state.ToJson());
        var model = doc.RootElement.GetProperty("models")[0];

        Assert.Equal("vibration", model.GetProperty("name").GetString());
        Assert.Equal(new DateTimeOffset(2026, 11, 27, 2, 0, 0, TimeSpan.Zero), model.GetProperty("activateAfter").GetDateTimeOffset());
        Assert.Equal(60, model.GetProperty("probationSeconds").GetInt32());
        Assert.Equal(7, model.GetProperty("probationRequests").GetInt32());
    }

    [Fact]
    public void Json_omits_optional_fields_that_are_null()
    {
        var state = State(new DesiredModel("vibration", "1.0.0"));

        using var doc = JsonDocument.Parse(state.ToJson());
        var model = doc.RootElement.GetProperty("models")[0];

        Assert.Equal(["name", "version"], model.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        var text = Encoding.UTF8.GetString(state.ToJson());
        Assert.DoesNotContain("activateAfter", text, StringComparison.Ordinal);
        Assert.DoesNotContain("probation", text, StringComparison.Ordinal);
    }
}
