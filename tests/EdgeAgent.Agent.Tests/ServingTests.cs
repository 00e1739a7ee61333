using System.Diagnostics;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

public sealed class ServingTests
{
    [Fact]
    public async Task Wrong_tensor_shape_is_a_400_that_names_the_input_and_the_expected_shape()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", """{"inputs":[{"name":"features","shape":[1,7],"datatype":"FP32","data":[1,2,3,4,5,6,7]}]}""");

        Assert.Equal(400, status);
        var error = body.RootElement.GetProperty("error").GetString()!;
        Assert.Contains("'features'", error, StringComparison.Ordinal);
        Assert.Contains("[-1,8]", error, StringComparison.Ordinal);
        var (after, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, after);
    }

    [Theory]
    [InlineData("""{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP64","data":[1,2,3,4,5,6,7,8]}]}""", "datatype FP64, model expects FP32")]
    [InlineData("""{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[1,2,3]}]}""", "has 3 data elements")]
    [InlineData("""{"inputs":[{"name":"input:0","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", "'input:0' does not exist")]
    [InlineData("""{"inputs":[]}""", "'features' is missing")]
    [InlineData("""{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,"x"]}]}""", "data element 7")]
    [InlineData("""{"inputs": [""", "not valid JSON")]
    [InlineData("""{"inputs":[{"name":"features","shape":[8388608,8],"datatype":"FP32","data":[]}]}""", "has 0 data elements")]
    [InlineData("""{"inputs":[{"name":"features","shape":[1,8],"datatype":"FP32","data":[1,2,3,4,5,6,7,1e39]}]}""", "outside the FP32 range")]
    public async Task Bad_requests_get_a_400_with_a_reason(string request, string expected)
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", request);

        Assert.Equal(400, status);
        Assert.Contains(expected, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_model_is_a_404()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();

        var (status, body) = await api.PostAsync("/v2/models/nope/infer", AgentRig.SampleRequest);

        Assert.Equal(404, status);
        Assert.Contains("'nope'", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (ready, _) = await api.GetAsync("/v2/health/ready");
        Assert.Equal(200, ready);
    }

    [Fact]
    public async Task Model_metadata_lists_inputs_and_outputs()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();

        var (status, body) = await api.GetAsync("/v2/models/vibration");

        Assert.Equal(200, status);
        var input = body.RootElement.GetProperty("inputs")[0];
        Assert.Equal("features", input.GetProperty("name").GetString());
        Assert.Equal("FP32", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 8L], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
    }

    [Fact]
    public async Task Curl_on_the_unix_socket_gets_predictions_that_match_numpy()
    {
        var curl = new[] { "/usr/bin/curl", "/bin/curl" }.FirstOrDefault(File.Exists);
        if (curl is null)
        {
            Assert.Skip("curl is not installed");
        }

        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        var request = Path.Combine(AppContext.BaseDirectory, "samples", "request.json");

        using var process = Process.Start(new ProcessStartInfo(curl, ["-sS", "--unix-socket", rig.Socket, "http://localhost/v2/models/vibration/infer", "-d", "@" + request])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.Equal(0, process.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(output);
        using var expected = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "samples", "expected.json")));
        var probabilities = doc.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "probabilities");
        var got = probabilities.GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        var want = expected.RootElement.GetProperty("probabilities").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(want.Length, got.Length);
        for (var i = 0; i < want.Length; i++)
        {
            Assert.InRange(got[i], want[i] - 1e-4, want[i] + 1e-4);
        }
    }

    [Fact]
    public async Task Concurrent_requests_all_succeed_while_a_new_version_is_activated()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync("1.0.0");
        using var api = rig.Api();
        using var stop = new CancellationTokenSource();
        var statuses = new System.Collections.Concurrent.ConcurrentBag<int>();
        var versions = new System.Collections.Concurrent.ConcurrentBag<string>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
                statuses.Add(status);
                if (status == 200)
                {
                    versions.Add(body.RootElement.GetProperty("model_version").GetString()!);
                }
            }
        })).ToList();

        await Wait.UntilAsync(() => versions.Count(v => v == "1.0.0") >= 20, Wait.Default, "traffic on 1.0.0");
        await rig.DeployActiveAsync("2.0.0", variant: 3);
        await Wait.UntilAsync(() => versions.Contains("2.0.0"), Wait.Default, "traffic on 2.0.0");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        Assert.All(statuses, s => Assert.Equal(200, s));
        Assert.Contains("1.0.0", versions);
    }

    [Fact]
    public async Task Concurrent_requests_of_different_batch_sizes_each_get_their_own_answer()
    {
        // The agent reuses pinned input and output buffers per model: callers with different shapes at the same time
        // must never see each other's rows.
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        using var sample = System.Text.Json.JsonDocument.Parse(AgentRig.SampleRequest);
        var rows = sample.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetDouble()).Chunk(8).ToArray();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();

        var runner = rig.Service<Serving.InferenceRunner>();

        // HTTP callers, and in-process callers (GPIO inputs use the runner directly) hammering the same model.
        var clients = Enumerable.Range(0, 4).Select(client => Task.Run(async () =>
        {
            for (var n = 0; n < 50; n++)
            {
                var (count, labels, request) = Request(client, n);
                var (status, body) = await api.PostAsync("/v2/models/vibration/infer", request);
                Check($"http client {client} request {n}", status == 200 ? body.RootElement : null, labels);
            }
        })).Concat(Enumerable.Range(4, 4).Select(client => Task.Run(() =>
        {
            var buffer = new System.Buffers.ArrayBufferWriter<byte>();
            for (var n = 0; n < 2000; n++)
            {
                var (_, labels, request) = Request(client, n);
                using var doc = System.Text.Json.JsonDocument.Parse(request);
                buffer.ResetWrittenCount();
                using (var writer = new System.Text.Json.Utf8JsonWriter(buffer))
                {
                    runner.Infer(AgentRig.Model, doc.RootElement, writer);
                }

                using var answer = System.Text.Json.JsonDocument.Parse(buffer.WrittenMemory);
                Check($"in-process caller {client} request {n}", answer.RootElement, labels);
            }
        }))).ToList();

        (int Count, int[] Labels, string Request) Request(int client, int n)
        {
            // Caller c sends 1 + (c + n) % 5 rows, starting at row (c + n) % 3; the sample's row r is class r.
            var count = 1 + ((client + n) % 5);
            var labels = Enumerable.Range(0, count).Select(i => (client + n + i) % 3).ToArray();
            var data = string.Join(",", labels.SelectMany(l => rows[l]).Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
            return (count, labels, $$"""{"inputs":[{"name":"features","shape":[{{count}},8],"datatype":"FP32","data":[{{data}}]}]}""");
        }

        void Check(string what, System.Text.Json.JsonElement? response, int[] labels)
        {
            var got = response is { } r
                ? r.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label").GetProperty("data").EnumerateArray().Select(e => (int)e.GetInt64()).ToArray()
                : [];
            if (!got.SequenceEqual(labels))
            {
                failures.Enqueue($"{what}: labels [{string.Join(",", got)}], expected [{string.Join(",", labels)}]");
            }
        }

        await Task.WhenAll(clients);

        Assert.Empty(failures);
    }
}
