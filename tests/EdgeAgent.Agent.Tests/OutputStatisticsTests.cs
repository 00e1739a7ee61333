using EdgeAgent.Agent.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Tests;

/// <summary>The meter's output statistics: what a metrics window reports about each output, and their cost per response.</summary>
public sealed class OutputStatisticsTests
{
    private static readonly string[] Names = ["probabilities", "label"];

    [Fact]
    public void Each_numeric_output_is_summarized_per_window_skipping_non_finite_values_and_allocating_nothing_per_response()
    {
        var meter = new InferenceMeter(TimeProvider.System);
        meter.Track("m", "1.0.0");
        using var probabilities = OrtValue.CreateTensorValueFromMemory(new[] { 0.25f, 0.75f, float.NaN, 0.5f }, [2, 2]);
        using var labels = OrtValue.CreateTensorValueFromMemory(new long[] { 0, 2 }, [2]);
        var values = new[] { probabilities, labels };

        meter.Observe("m", Names, values);
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 999; i++)
        {
            meter.Observe("m", Names, values);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        var outputs = meter.CloseWindows().Single().Close(1, "d", DateTimeOffset.UtcNow).Outputs!;

        Assert.Equal(0, allocated);
        Assert.Equal(("probabilities", 3000L, 0.5, 0.25, 0.75), (outputs[0].Name, outputs[0].Count, outputs[0].Mean, outputs[0].Min, outputs[0].Max));
        Assert.Equal(("label", 2000L, 1.0, 0.0, 2.0), (outputs[1].Name, outputs[1].Count, outputs[1].Mean, outputs[1].Min, outputs[1].Max));
    }

    [Fact]
    public void A_window_without_responses_has_no_output_statistics_and_an_untracked_model_is_not_observed()
    {
        var meter = new InferenceMeter(TimeProvider.System);
        meter.Track("m", "1.0.0");

        Assert.False(meter.Observes("other"));
        Assert.Null(meter.CloseWindows().Single().Close(1, "d", DateTimeOffset.UtcNow).Outputs);
    }

    [Fact]
    public async Task A_metrics_window_reports_the_statistics_of_the_inputs_the_model_was_given()
    {
        await using var rig = await Infrastructure.AgentRig.StartAsync(overrides: new() { ["Telemetry:WindowSeconds"] = "600" });
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        using var sample = System.Text.Json.JsonDocument.Parse(Infrastructure.AgentRig.SampleRequest);
        var values = sample.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => (double)e.GetSingle()).ToArray();
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", Infrastructure.AgentRig.SampleRequest)).Status);
        }

        rig.Service<MetricsWindowService>().Flush();
        var record = await Infrastructure.Wait.ForAsync(
            () => rig.Messages("metrics").Select(m => m.RootElement).FirstOrDefault(m => m.GetProperty("count").GetInt64() == 2) is { ValueKind: System.Text.Json.JsonValueKind.Object } r ? (object)r.Clone() : null,
            Infrastructure.Wait.Default,
            "the window with the two requests");
        var input = Assert.Single(((System.Text.Json.JsonElement)record).GetProperty("inputs").EnumerateArray());

        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal(2 * values.Length, input.GetProperty("count").GetInt64());
        Assert.Equal(values.Average(), input.GetProperty("mean").GetDouble(), 4);
        Assert.Equal(values.Min(), input.GetProperty("min").GetDouble(), 4);
        Assert.Equal(values.Max(), input.GetProperty("max").GetDouble(), 4);
    }
}
