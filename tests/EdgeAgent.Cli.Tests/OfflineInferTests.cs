using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl infer MODEL --onnx FILE</c>: one request on a model file, no agent (used by the arm64 smoke test).</summary>
public sealed class OfflineInferTests
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    [Fact]
    public async Task Infer_with_onnx_runs_the_request_here_and_matches_the_expected_outputs()
    {
        var result = await Edgectl.RunAsync("infer", "vibration", "--onnx", Sample("vibration.onnx"), "--input", Sample("request.json"));
        Assert.True(result.Code == 0, result.Stderr);
        using var response = JsonDocument.Parse(result.Stdout);
        Assert.Equal("vibration", response.RootElement.GetProperty("model_name").GetString());
        var outputs = response.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!, o => o.GetProperty("data"));
        using var expected = JsonDocument.Parse(await File.ReadAllTextAsync(Sample("expected.json"), TestContext.Current.CancellationToken));
        var probabilities = outputs["probabilities"].EnumerateArray().Select(v => v.GetDouble()).ToArray();
        var want = expected.RootElement.GetProperty("probabilities").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        Assert.Equal(want.Length, probabilities.Length);
        for (var i = 0; i < want.Length; i++)
        {
            Assert.InRange(probabilities[i], want[i] - 1e-5, want[i] + 1e-5);
        }

        Assert.Equal([0L, 1L, 2L], outputs["label"].EnumerateArray().Select(v => v.GetInt64()));
    }

    [Fact]
    public async Task Infer_with_onnx_refuses_npy_inputs_and_reports_a_missing_model_file()
    {
        var npy = await Edgectl.RunAsync("infer", "vibration", "--onnx", Sample("vibration.onnx"), "--input", "features=x.npy");
        Assert.Equal(2, npy.Code);
        Assert.Contains("--onnx takes one JSON request file", npy.Stderr, StringComparison.Ordinal);

        var missing = await Edgectl.RunAsync("infer", "vibration", "--onnx", Path.Combine(Path.GetTempPath(), "no-such-model.onnx"), "--input", Sample("request.json"));
        Assert.NotEqual(0, missing.Code);
        Assert.Contains("model file not found", missing.Stderr, StringComparison.Ordinal);
    }
}
