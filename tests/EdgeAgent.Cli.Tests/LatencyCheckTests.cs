using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl check</c> holds each serving model to <c>Serving:LatencySloMilliseconds</c> on its staging warm-up.</summary>
public sealed class LatencyCheckTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-slo-").FullName;

    [Theory]
    [InlineData("60000", "ok")]
    [InlineData("0.0001", "fail")]
    public async Task Check_reports_whether_the_warm_up_met_the_latency_budget(string slo, string expected)
    {
        await using var agent = await LocalAgent.StartWithSampleAsync(_work, "slo-1", new Dictionary<string, string?> { ["Serving:LatencySloMilliseconds"] = slo });

        var check = await Edgectl.RunAsync("check", "--socket", agent.Socket, "--json");

        using var result = JsonDocument.Parse(check.Stdout);
        var latency = Assert.Single(result.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "model latency");
        Assert.Equal(expected, latency.GetProperty("status").GetString());
        Assert.Contains("vibration 1.0.0: warm-up mean", latency.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
