using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl capture export</c>: captured samples leave the device as JSON lines a training job can read.</summary>
public sealed class CaptureCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-capture-").FullName;

    [Fact]
    public async Task Export_writes_every_captured_sample_and_purge_empties_the_device()
    {
        await using var agent = await LocalAgent.StartWithSampleAsync(_work, "capture-1", new Dictionary<string, string?>
        {
            ["Capture:Enabled"] = "true",
            ["Capture:LowConfidence:0:Model"] = "vibration",
            ["Capture:LowConfidence:0:Output"] = "probabilities",
            ["Capture:LowConfidence:0:Below"] = "1.1",
        });
        for (var i = 0; i < 3; i++)
        {
            var infer = await Edgectl.RunAsync("infer", "vibration", "--input", LocalAgent.SampleRequest, "--socket", agent.Socket);
            Assert.True(infer.Code == 0, infer.Stderr);
        }

        // Capture writes in the background: wait until the agent holds all three.
        await agent.WaitForCapturedSamplesAsync(3);

        var output = Path.Combine(_work, "export");
        var export = await Edgectl.RunAsync("capture", "export", "--out", output, "--purge", "--json", "--socket", agent.Socket);

        Assert.True(export.Code == 0, export.Stderr);
        using var manifest = JsonDocument.Parse(export.Stdout);
        Assert.Equal(3, manifest.RootElement.GetProperty("samples").GetInt32());
        Assert.Equal(3, manifest.RootElement.GetProperty("purged").GetInt32());
        var lines = await File.ReadAllLinesAsync(Path.Combine(output, "vibration", "1.0.0", "samples.jsonl"), TestContext.Current.CancellationToken);
        Assert.Equal(3, lines.Length);
        using var first = JsonDocument.Parse(lines[0]);
        Assert.Equal("low-confidence", first.RootElement.GetProperty("reason").GetString());
        Assert.True(File.Exists(Path.Combine(output, "manifest.json")));
        Assert.Equal(0, await agent.CapturedSamplesAsync());

        // Each line's request is a valid inference request again: replay it through edgectl.
        var replay = Path.Combine(_work, "replay.json");
        await File.WriteAllTextAsync(replay, first.RootElement.GetProperty("request").GetRawText(), TestContext.Current.CancellationToken);
        var again = await Edgectl.RunAsync("infer", "vibration", "--input", replay, "--socket", agent.Socket);
        Assert.True(again.Code == 0, again.Stderr);
        using var answer = JsonDocument.Parse(again.Stdout);
        Assert.Equal([0L, 1L, 2L], answer.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label").GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
