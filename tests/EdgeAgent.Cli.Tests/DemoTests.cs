using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

public sealed class DemoTests
{
    [Fact]
    public async Task Demo_runs_the_whole_loop_and_reports_it_as_json()
    {
        var result = await Edgectl.RunAsync(TimeSpan.FromSeconds(120), "demo", "--duration", "6", "--json");

        Assert.True(result.Code == 0, $"exit {result.Code}\nstdout: {result.Stdout}\nstderr: {result.Stderr}");
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("Active", root.GetProperty("modelState").GetString());
        Assert.Equal("1.0.0", root.GetProperty("modelVersion").GetString());
        var inferences = root.GetProperty("inferences").GetInt64();
        Assert.True(inferences > 0);
        Assert.True(root.GetProperty("metricsDelivered").GetInt64() > 0);
        Assert.True(root.GetProperty("healthReports").GetInt64() > 0);
        Assert.Equal(inferences, root.GetProperty("inferencesInMetrics").GetInt64());
        Assert.Empty(root.GetProperty("errors").EnumerateArray());
        Assert.True(root.GetProperty("agreement").GetDouble() > 0.9, "the sample model classifies the simulated sensor correctly");

        // The sensor mounting loosens for a while: the drift monitor raises an alert naming the features that moved,
        // and clears it once the readings are healthy again.
        var alerts = root.GetProperty("driftAlerts").EnumerateArray().ToList();
        Assert.True(alerts.Count >= 2, root.GetProperty("driftAlerts").ToString());
        Assert.Equal("drift", alerts[0].GetProperty("state").GetString());
        Assert.Contains("features[0]", alerts[0].GetProperty("drifted").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("ok", alerts[^1].GetProperty("state").GetString());
        Assert.True(alerts[0].GetProperty("atSeconds").GetDouble() >= root.GetProperty("shift").GetProperty("fromSeconds").GetDouble());
    }

    [Fact]
    public async Task Unknown_option_is_a_usage_error_with_exit_2()
    {
        var result = await Edgectl.RunAsync("demo", "--durration", "5");

        Assert.Equal(2, result.Code);
        Assert.Contains("--durration", result.Stderr, StringComparison.Ordinal);
        Assert.StartsWith("edgectl: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Demo_refuses_a_nonsense_duration()
    {
        var result = await Edgectl.RunAsync("demo", "--duration", "-3");

        Assert.Equal(2, result.Code);
        Assert.Equal("edgectl: --duration must be positive", result.Stderr.Trim());
    }

    [Fact]
    public async Task Lifecycle_demo_refuses_a_fleet_without_room_for_a_canary()
    {
        var result = await Edgectl.RunAsync("demo", "--lifecycle", "--devices", "1");

        Assert.Equal(2, result.Code);
        Assert.Equal("edgectl: --devices must be between 2 and 50 (a canary wave and the rest)", result.Stderr.Trim());
    }
}
