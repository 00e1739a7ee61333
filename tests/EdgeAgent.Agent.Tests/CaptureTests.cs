using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Capture;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

/// <summary>Data capture for retraining (<c>Capture</c> options): what is kept, when, how much, and what never leaves the device.</summary>
public sealed class CaptureTests
{
    private static Dictionary<string, string?> Config(double below, int perMinute = 60, params string[] redact)
    {
        var config = new Dictionary<string, string?>
        {
            ["Capture:Enabled"] = "true",
            ["Capture:SamplesPerMinute"] = perMinute.ToString(CultureInfo.InvariantCulture),
            ["Capture:LowConfidence:0:Model"] = AgentRig.Model,
            ["Capture:LowConfidence:0:Output"] = "probabilities",
            ["Capture:LowConfidence:0:Below"] = below.ToString(CultureInfo.InvariantCulture),
        };
        for (var i = 0; i < redact.Length; i++)
        {
            config[$"Capture:Redact:{i}"] = redact[i];
        }

        return config;
    }

    /// <summary>The sample request's rows (normal, warning, fault).</summary>
    private static double[][] Rows()
    {
        using var doc = JsonDocument.Parse(AgentRig.SampleRequest);
        return [.. doc.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).Chunk(8)];
    }

    private static string Request(params double[][] rows) =>
        $$"""{"inputs":[{"name":"features","shape":[{{rows.Length}},8],"datatype":"FP32","data":[{{string.Join(",", rows.SelectMany(r => r).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}}]}]}""";

    private static async Task<JsonElement[]> SamplesAsync(UnixSocketApi api)
    {
        var (status, body) = await api.GetAsync("/v1/capture");
        Assert.Equal(200, status);
        return [.. body.RootElement.GetProperty("samples").EnumerateArray().Select(e => e.Clone())];
    }

    [Fact]
    public async Task A_low_confidence_prediction_is_captured_with_its_inputs_and_outputs_and_a_confident_one_is_not()
    {
        await using var rig = await AgentRig.StartAsync(overrides: Config(below: 0.9));
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var rows = Rows();

        // The sample's rows are each clearly one class (top probability above 0.97): nothing to capture.
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", Request(rows));
        Assert.Equal(200, status);

        // Halfway between a normal and a fault reading the model is unsure.
        var ambiguous = rows[0].Zip(rows[2], (a, b) => (a + b) / 2).ToArray();
        var (status2, answer) = await api.PostAsync("/v2/models/vibration/infer", Request(ambiguous));
        Assert.Equal(200, status2);
        var top = answer.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probabilities").GetProperty("data").EnumerateArray().Max(e => e.GetDouble());
        Assert.True(top < 0.9, $"precondition: the halfway row should be uncertain, top probability {top}");

        var samples = await Wait.ForAsync(async () => await SamplesAsync(api) is { Length: > 0 } s ? s : null, Wait.Default, "a captured sample");
        var sample = Assert.Single(samples);
        Assert.Equal("low-confidence", sample.GetProperty("reason").GetString());
        Assert.Equal("1.0.0", sample.GetProperty("version").GetString());
        var input = sample.GetProperty("data").GetProperty("inputs")[0];
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal(ambiguous.Select(v => (float)v), input.GetProperty("data").EnumerateArray().Select(e => e.GetSingle()));
        var outputs = sample.GetProperty("data").GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()).ToList();
        Assert.Equal(["probabilities", "label"], outputs);
        var (_, agentStatus) = await api.GetAsync("/v1/status");
        Assert.Equal(1, agentStatus.RootElement.GetProperty("capture").GetProperty("samples").GetInt32());
    }

    [Fact]
    public async Task Redacted_fields_never_reach_the_capture_store()
    {
        await using var rig = await AgentRig.StartAsync(overrides: Config(below: 1.1, 60, "features[3]"));
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var rows = Rows();

        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", Request(rows));
        Assert.Equal(200, status);

        var sample = (await Wait.ForAsync(async () => await SamplesAsync(api) is { Length: > 0 } s ? s : null, Wait.Default, "a captured sample"))[0];
        var data = sample.GetProperty("data").GetProperty("inputs")[0].GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(24, data.Length);
        for (var i = 0; i < data.Length; i++)
        {
            if (i % 8 == 3)
            {
                Assert.Equal(JsonValueKind.Null, data[i].ValueKind);
            }
            else
            {
                Assert.Equal((float)rows[i / 8][i % 8], data[i].GetSingle());
            }
        }

        Assert.Equal(["features[3]"], sample.GetProperty("data").GetProperty("redacted").EnumerateArray().Select(e => e.GetString()));
        var file = await File.ReadAllBytesAsync(Path.Combine(rig.Work, "state", "capture.db"), TestContext.Current.CancellationToken);
        var secret = rows[0][3].ToString("R", CultureInfo.InvariantCulture);
        Assert.False(System.Text.Encoding.UTF8.GetString(file).Contains($",{secret},", StringComparison.Ordinal), "the redacted value is in capture.db");
    }

    [Fact]
    public async Task Capture_is_rate_limited_per_model_and_counts_what_it_skips()
    {
        await using var rig = await AgentRig.StartAsync(overrides: Config(below: 1.1, perMinute: 2));
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        for (var i = 0; i < 6; i++)
        {
            var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
            Assert.Equal(200, status);
        }

        var capture = await Wait.ForValueAsync(
            async () => (await api.GetAsync("/v1/status")).Body.RootElement.GetProperty("capture").Clone() is var c && c.GetProperty("captured").GetInt64() + c.GetProperty("skipped").GetInt64() == 6 ? c : (JsonElement?)null,
            Wait.Default,
            "6 requests seen by capture");

        // Two per minute: 2 kept, or 4 when the requests straddled a minute boundary.
        Assert.InRange(capture.GetProperty("captured").GetInt64(), 2, 4);
        Assert.InRange(capture.GetProperty("skipped").GetInt64(), 2, 4);
    }

    [Fact]
    public void The_store_keeps_within_its_budget_by_dropping_the_oldest_samples()
    {
        var work = Directory.CreateTempSubdirectory("edgeagent-capture-").FullName;
        try
        {
            var agent = Microsoft.Extensions.Options.Options.Create(new AgentOptions { StateDirectory = work });
            var options = Microsoft.Extensions.Options.Options.Create(new CaptureOptions { MaxMegabytes = 1 });
            var payload = "{\"inputs\":[],\"outputs\":[],\"pad\":\"" + new string('x', 4000) + "\"}";
            using (var store = new CaptureStore(agent, options))
            {
                for (var i = 0; i < 400; i++)
                {
                    store.Add(new CaptureSample { Model = "m", Version = "1", At = DateTime.UtcNow, Reason = "drift", Json = payload });
                }

                Assert.True(store.Bytes <= 1024 * 1024, $"{store.Bytes} bytes kept");
                Assert.Equal(400 - store.Count, store.Dropped);
                Assert.Equal(store.Dropped + 1, store.Read(null, 0, 1)[0].Id);
            }

            // Reopened: the counters and ids carry on.
            using var again = new CaptureStore(agent, options);
            var before = again.Dropped;
            again.Add(new CaptureSample { Model = "m", Version = "1", At = DateTime.UtcNow, Reason = "drift", Json = payload });
            Assert.Equal(401, again.Read(null, 400, 10).Single().Id);
            Assert.Equal(before + 1, again.Dropped);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
