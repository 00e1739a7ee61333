using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// deploy-manifests/lifecycle (issue 8): the training script beats the sample model on the demo's shifted data and
/// writes a candidate that edgectl bundles with its drift baseline and acceptance vectors; a worse candidate is
/// refused (exit 3); the drift bridge triggers one retraining per model per cooldown. Runs Debian's python3
/// (python3-sklearn, python3-onnx, python3-numpy; python3-celery and python3-paho-mqtt for the bridge module).
/// </summary>
public sealed class LifecycleTrainingTests : IDisposable
{
    private const string Python = "/usr/bin/python3";
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-lifecycle-").FullName;

    private static string Scripts => Path.Combine(AppContext.BaseDirectory, "lifecycle");

    private static string CurrentModel => Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    [Fact]
    public async Task Candidate_trained_on_shifted_data_beats_v1_and_bundles_with_baseline_and_acceptance()
    {
        await RequirePythonAsync("sklearn", "onnx", "numpy");
        await MakeShiftedDataAsync();

        var train = await PythonAsync("train.py", "--train", "train.csv", "--holdout", "holdout.csv", "--current", CurrentModel, "--out", "good");
        Assert.True(train.Code == 0, train.Output);
        Assert.StartsWith("written: ", train.Output.Trim(), StringComparison.Ordinal);

        using var evaluation = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(_work, "good", "evaluation.json"), TestContext.Current.CancellationToken));
        var candidate = evaluation.RootElement.GetProperty("candidate");
        var current = evaluation.RootElement.GetProperty("current");
        Assert.True(evaluation.RootElement.GetProperty("released").GetBoolean());
        Assert.True(candidate.GetProperty("f1").GetDouble() > current.GetProperty("f1").GetDouble(), evaluation.RootElement.ToString());
        Assert.True(candidate.GetProperty("accuracy").GetDouble() >= current.GetProperty("accuracy").GetDouble(), evaluation.RootElement.ToString());

        // What the Celery task does next: bundle with the drift baseline and acceptance vectors, two keys.
        foreach (var key in new[] { "ci", "release" })
        {
            var generate = await Edgectl.RunAsync("keys", "generate", "--out", Path.Combine(_work, key));
            Assert.True(generate.Code == 0, generate.Stderr);
        }

        var bundle = Path.Combine(_work, "vibration-1.1.0.edgebundle");
        var create = await Edgectl.RunAsync(
            "bundle", "create", "--model", Path.Combine(_work, "good", "model.onnx"), "--name", "vibration", "--version", "1.1.0",
            "--key", Path.Combine(_work, "ci", "release.key.pem"), "--out", bundle,
            "--baseline", Path.Combine(_work, "good", "baseline.csv"), "--acceptance", Path.Combine(_work, "good", "acceptance.json"));
        Assert.True(create.Code == 0, create.Stderr);
        Assert.Contains("acceptance: 4 vector(s)", create.Stdout, StringComparison.Ordinal);
        Assert.Contains("drift baseline: 600 samples", create.Stdout, StringComparison.Ordinal);
        var sign = await Edgectl.RunAsync("bundle", "sign", bundle, "--key", Path.Combine(_work, "release", "release.key.pem"));
        Assert.True(sign.Code == 0, sign.Stderr);
        var verify = await Edgectl.RunAsync(
            "bundle", "verify", bundle, "--trust", Path.Combine(_work, "ci", "release.pub.pem"),
            "--trust", Path.Combine(_work, "release", "release.pub.pem"), "--threshold", "2");
        Assert.True(verify.Code == 0, verify.Stderr);

        // The shifted held-out data is no drift against the new baseline.
        var features = Path.Combine(_work, "holdout-features.csv");
        await File.WriteAllLinesAsync(features, File.ReadLines(Path.Combine(_work, "good", "baseline.csv")), TestContext.Current.CancellationToken);
        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", features);
        Assert.True(compare.Code == 0, compare.Stdout + compare.Stderr);
    }

    [Fact]
    public async Task Worse_candidate_trained_on_shuffled_labels_is_refused_with_exit_3()
    {
        await RequirePythonAsync("sklearn", "onnx", "numpy");
        await MakeShiftedDataAsync();

        var train = await PythonAsync("train.py", "--train", "train.csv", "--holdout", "holdout.csv", "--current", CurrentModel, "--out", "bad", "--shuffle-labels");
        Assert.True(train.Code == 3, train.Output);
        Assert.Contains("refused: candidate macro-F1", train.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "bad", "model.onnx")));
        Assert.False(File.Exists(Path.Combine(_work, "bad", "acceptance.json")));
        Assert.True(File.Exists(Path.Combine(_work, "bad", "evaluation.json")));
    }

    [Fact]
    public async Task Bridge_debounces_drift_alerts_to_one_retraining_per_model_per_cooldown()
    {
        await RequirePythonAsync("paho.mqtt", "celery");
        const string Script = """
            import bridge
            d = bridge.Debouncer(60)
            a = {"kind": "alert", "state": "drift", "model": "vibration", "deviceId": "d1"}
            got = [d.offer(a, 0), d.offer(dict(a, deviceId="d2"), 10), d.offer(dict(a, kind="window"), 70),
                   d.offer(dict(a, state="ok"), 70), d.offer(a, 61), d.offer(dict(a, model="other"), 62), d.offer(a, 100)]
            batch = bridge.records({"records": [dict(a, kind="window"), dict(a, model="pump")]})
            got += [d.offer(r, 200) for r in batch]
            print(got)
            """;
        var run = await RunAsync(Python, "-c", Script);
        Assert.True(run.Code == 0, run.Output);
        Assert.Equal("['vibration', None, None, None, 'vibration', 'other', None, None, 'pump']", run.Output.Trim());
    }

    private async Task MakeShiftedDataAsync()
    {
        foreach (var (file, rows, seed) in new[] { ("train.csv", "1200", "1"), ("holdout.csv", "600", "2") })
        {
            var made = await PythonAsync("dataset.py", "--out", file, "--rows", rows, "--seed", seed, "--shift");
            Assert.True(made.Code == 0, made.Output);
        }

        Assert.Equal(
            "rms,peak,crest,kurtosis,skewness,freq_khz,low_band,high_band,label",
            File.ReadLines(Path.Combine(_work, "train.csv")).First());
    }

    [Fact]
    public async Task Collect_pages_the_captured_samples_off_a_live_agent_over_MQTT_5_and_acknowledges_them()
    {
        await RequirePythonAsync("paho.mqtt", "celery");
        await using var broker = await Fleet.Mqtt.EmbeddedBroker.StartAsync();
        await using var agent = await LocalAgent.StartWithSampleAsync(
            _work,
            "line-7",
            new Dictionary<string, string?>
            {
                ["Capture:Enabled"] = "true",
                ["Capture:LowConfidence:0:Model"] = "vibration",
                ["Capture:LowConfidence:0:Output"] = "probabilities",
                ["Capture:LowConfidence:0:Below"] = "1.1",
            },
            broker.Url);
        for (var i = 0; i < 3; i++)
        {
            var infer = await Edgectl.RunAsync("infer", "vibration", "--input", LocalAgent.SampleRequest, "--socket", agent.Socket);
            Assert.True(infer.Code == 0, infer.Stderr);
        }

        await agent.WaitForCapturedSamplesAsync(3);

        // The Celery task's own function, against the live agent: two pages (limit 2), each acknowledged by the next request.
        var port = new Uri(broker.Url).Port;
        var code = $"import os, sys; os.environ['MQTT_HOST'] = '127.0.0.1'; os.environ['MQTT_PORT'] = '{port}'; sys.path.insert(0, '{Scripts}'); import tasks; s = tasks.capture_export(tasks.mqtt_client, 'line-7', 'vibration', 'edgeagent/v1', limit=2); print(len(s), len(tasks.samples_to_rows(s)))";
        var run = await RunAsync(Python, "-c", code);

        Assert.True(run.Code == 0, run.Output);
        Assert.Equal("3 9", run.Output.Trim().Split('\n')[^1]);
        await agent.WaitForCapturedSamplesAsync(0);
    }

    private static async Task RequirePythonAsync(params string[] modules)
    {
        if (!File.Exists(Python))
        {
            Assert.Skip($"{Python} is not installed");
        }

        foreach (var module in modules)
        {
            var probe = await RunAsync(Python, "-c", $"import {module}");
            if (probe.Code != 0)
            {
                Assert.Skip($"{Python} cannot import {module} (apt-get install the Debian package)");
            }
        }
    }

    private Task<(int Code, string Output)> PythonAsync(string script, params string[] args) =>
        RunAsync(Python, [Path.Combine(Scripts, script), .. args], _work);

    private static Task<(int Code, string Output)> RunAsync(string tool, params string[] args) => RunAsync(tool, args, Scripts);

    private static async Task<(int Code, string Output)> RunAsync(string tool, string[] args, string workingDirectory)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        return (process.ExitCode, stdout + await stderr);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
