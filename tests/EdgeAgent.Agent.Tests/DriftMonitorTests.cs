using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Drift;
using EdgeAgent.Agent.Tests.Infrastructure;
using EdgeAgent.Core.Drift;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// On-device drift detection: a bundle carrying a baseline built from the vibration training data
/// (tests/fixtures/drift/vibration-baseline.csv), traffic drawn from that data, then shifted traffic
/// (vibration-shifted.csv), then like it again. Windows are reported on the drift topic, the shift raises an alert
/// and the return clears it, and capture keeps requests while the model is in drift.
/// </summary>
public sealed class DriftMonitorTests
{
    private static double[][] Csv(string name) =>
        [.. File.ReadAllLines(Path.Combine(AppContext.BaseDirectory, "fixtures", "drift", name)).Skip(1)
            .Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray())];

    private static DriftBaseline Baseline(double[][] rows)
    {
        var features = Enumerable.Range(0, 8).Select(i =>
            DriftBaselineBuilder.Build(new DriftFeatureSpec(DriftFeatureSpec.ElementName("features", i), "features", IsOutput: false, i, DriftStatistic.Value), [.. rows.Select(r => r[i])])).ToList();
        return new DriftBaseline { Samples = rows.Length, Features = features };
    }

    private static string Request(IEnumerable<double[]> rows)
    {
        var list = rows.ToList();
        return $$"""{"inputs":[{"name":"features","shape":[{{list.Count}},8],"datatype":"FP32","data":[{{string.Join(",", list.SelectMany(r => r).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}}]}]}""";
    }

    /// <summary>Every record published on the drift topic, whether sent alone or in a batch.</summary>
    private static IEnumerable<JsonElement> Records(AgentRig rig) =>
        rig.Messages("drift").SelectMany(m => m.RootElement.ValueKind == JsonValueKind.Array
            ? m.RootElement.EnumerateArray().Select(e => e.Clone())
            : m.RootElement.TryGetProperty("records", out var records) ? records.EnumerateArray().Select(e => e.Clone()) : [m.RootElement.Clone()]);

    [Fact]
    public async Task A_shift_in_traffic_raises_a_drift_alert_and_its_end_clears_it()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new Dictionary<string, string?>
        {
            // At least 200 samples per judged window: with 40, a short first window under CI load held 40 samples and its
            // sampling noise alone (PSI ~ bins/n = 0.25) raised a false alert on training-like traffic.
            ["Drift:WindowSeconds"] = "2",
            ["Drift:MinSamples"] = "200",
            ["Capture:Enabled"] = "true",
        });
        using (var key = SigningKeys.LoadPrivate(rig.Keys.PrivateKeyPath))
        {
            var bundle = BundleBuilder.Create(new BundleBuilder.Request
            {
                ModelPath = AgentRig.SampleModel,
                Name = AgentRig.Model,
                Version = "1.0.0",
                Keys = [key],
                Drift = Baseline(Csv("vibration-baseline.csv")),
                OutPath = Path.Combine(rig.Work, "drift.edgebundle"),
            });
            await rig.PublishAsync(bundle);
        }

        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
        using var api = rig.Api();
        // Traffic like the training data: rows drawn at random from it (a window holds hundreds of samples, so its
        // histogram is the training data's, up to sampling noise well under the clear thresholds).
        var baseline = Csv("vibration-baseline.csv");
        var random = new Random(7);
        var same = Enumerable.Range(0, 2000).Select(_ => baseline[random.Next(baseline.Length)]).ToArray();
        var shifted = Csv("vibration-shifted.csv");

        async Task SendUntilAsync(double[][] rows, Func<bool> done, string what)
        {
            var i = 0;
            await Wait.UntilAsync(
                async () =>
                {
                    var (status, _) = await api.PostAsync("/v2/models/vibration/infer", Request(rows.Skip(i % rows.Length).Take(20)));
                    Assert.Equal(200, status);
                    i += 20;
                    return done();
                },
                Wait.Default,
                what);
        }

        JsonElement[] Drift(string kind) => [.. Records(rig).Where(m => m.GetProperty("kind").GetString() == kind)];

        // Traffic like the training data: windows are judged ok, no alert.
        await SendUntilAsync(same, () => Drift("window").Any(w => w.GetProperty("state").GetString() == "ok"), "an ok drift window");
        Assert.Empty(Drift("alert"));

        // The distribution shifts: an alert within a couple of windows, naming the model and the features that moved.
        await SendUntilAsync(shifted, () => Drift("alert").Length > 0, "a drift alert");
        var raised = Drift("alert")[0];
        Assert.Equal("drift", raised.GetProperty("state").GetString());
        Assert.Equal("ok", raised.GetProperty("previousState").GetString());
        Assert.Equal("1.0.0", raised.GetProperty("version").GetString());
        var drifted = raised.GetProperty("features").EnumerateArray().Where(f => f.GetProperty("state").GetString() == "drift").ToList();
        Assert.NotEmpty(drifted);
        Assert.All(drifted, f => Assert.True(f.GetProperty("psi").GetDouble() >= 0.25 || f.GetProperty("js").GetDouble() >= 0.2 || f.GetProperty("ks").GetDouble() >= 0.2, f.ToString()));
        // The alert carries each feature's count per baseline bin, as the windows do: one value per sample, so they sum to the count.
        Assert.All(raised.GetProperty("features").EnumerateArray(), f => Assert.Equal(raised.GetProperty("count").GetInt64(), f.GetProperty("counts").EnumerateArray().Sum(c => c.GetInt64())));
        var (_, status) = await api.GetAsync("/v1/status");
        Assert.Equal("drift", status.RootElement.GetProperty("drift")[0].GetProperty("state").GetString());
        await Wait.UntilAsync(() => rig.LastMessage("health")?.RootElement.GetProperty("drift") is { ValueKind: JsonValueKind.Array } d && d.GetArrayLength() == 1 && d[0].GetProperty("state").GetString() == "drift", Wait.Default, "health showing the drift state");

        // While in drift, capture keeps requests for retraining.
        await Wait.UntilAsync(async () => (await api.GetAsync("/v1/capture")).Body.RootElement.GetProperty("samples").GetArrayLength() > 0, Wait.Default, "captured drift samples");

        // Back to normal: the alert clears.
        await SendUntilAsync(same, () => Drift("alert").Any(a => a.GetProperty("state").GetString() == "ok"), "the drift alert cleared");
        var seqs = Records(rig).Select(m => m.GetProperty("seq").GetInt64()).ToList();
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
    }

    [Fact]
    public async Task A_window_record_carries_the_count_of_each_baseline_bin()
    {
        // No window closes by itself: the test closes the one window.
        await using var rig = await AgentRig.StartAsync(overrides: new Dictionary<string, string?> { ["Drift:WindowSeconds"] = "3600" });
        var baseline = Baseline(Csv("vibration-baseline.csv"));
        using (var key = SigningKeys.LoadPrivate(rig.Keys.PrivateKeyPath))
        {
            await rig.PublishAsync(BundleBuilder.Create(new BundleBuilder.Request
            {
                ModelPath = AgentRig.SampleModel,
                Name = AgentRig.Model,
                Version = "1.0.0",
                Keys = [key],
                Drift = baseline,
                OutPath = Path.Combine(rig.Work, "drift.edgebundle"),
            }));
        }

        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
        using var api = rig.Api();
        var rows = Csv("vibration-shifted.csv").Take(120).ToArray();
        foreach (var chunk in rows.Chunk(20))
        {
            var (status, _) = await api.PostAsync("/v2/models/vibration/infer", Request(chunk));
            Assert.Equal(200, status);
        }

        rig.Service<DriftMonitor>().CloseWindows();
        // The shifted rows may also raise an alert (a second record, published with or after the window).
        static bool IsWindow(JsonElement r) => r.GetProperty("kind").GetString() == "window";
        await Wait.UntilAsync(() => Records(rig).Any(IsWindow), Wait.Default, "the drift window record");

        var window = Records(rig).Single(IsWindow);
        Assert.Equal(rows.Length, window.GetProperty("count").GetInt64());
        var features = window.GetProperty("features").EnumerateArray().ToArray();
        Assert.Equal(baseline.Features.Count, features.Length);
        for (var i = 0; i < features.Length; i++)
        {
            var edges = baseline.Features[i].Edges!;
            // The bin of a value is the number of edges below it (the request carries FP32, so compare the float).
            var expected = new long[edges.Count + 1];
            foreach (var row in rows)
            {
                expected[edges.Count(e => e < (float)row[i])]++;
            }

            var counts = features[i].GetProperty("counts").EnumerateArray().Select(c => c.GetInt64()).ToArray();
            Assert.Equal(baseline.Features[i].Proportions.Count, counts.Length);
            Assert.Equal(expected, counts);
            Assert.Equal(rows.Length, counts.Sum());
            Assert.False(features[i].TryGetProperty("other", out _));
        }

        Assert.Empty(window.GetProperty("outputs").EnumerateArray());
    }
}
