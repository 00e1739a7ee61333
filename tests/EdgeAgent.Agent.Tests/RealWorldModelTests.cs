using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// The models of tests/fixtures/models/make_models.py that look like what exporters write (opset 9 and 17, dynamic
/// batch, a scalar input, names such as "input:0", "x.1" and "53", every element type, FP16, a channels-last uint8
/// image model, a recurrent cell whose state the caller feeds back, an output shaped by the input values), served through the real agent and compared with
/// the outputs numpy computed for them (tests/fixtures/models/expected.json).
/// </summary>
public sealed class RealWorldModelTests
{
    private static readonly string[] Models = ["opset9.onnx", "opset17.onnx", "types.onnx", "half.onnx", "nhwc.onnx", "nonzero.onnx"];

    private static JsonElement Expected(string model)
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(AgentRig.FixtureModel("expected.json")));
        return doc.RootElement.GetProperty(model).Clone();
    }

    [Fact]
    public async Task Every_real_world_fixture_model_serves_the_outputs_numpy_computed()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        var version = 0;
        foreach (var model in Models)
        {
            var v = $"{++version}.0.0";
            await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel(model), v));
            await rig.DeployAsync(v);
            await rig.WaitForReportedAsync("Active", v);

            var i = 0;
            foreach (var c in Expected(model).EnumerateArray())
            {
                var what = $"{model} case {i++}";
                var (status, body) = await api.PostAsync("/v2/models/vibration/infer", c.GetProperty("request").GetRawText());
                Assert.True(status == 200, $"{what}: {status} {body.RootElement}");
                var outputs = body.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
                foreach (var expected in c.GetProperty("outputs").EnumerateArray())
                {
                    var name = expected.GetProperty("name").GetString()!;
                    Assert.True(outputs.TryGetValue(name, out var actual), $"{what}: no output '{name}' in {body.RootElement}");
                    AssertTensor($"{what} output '{name}'", expected, actual);
                }

                Assert.Equal(c.GetProperty("outputs").GetArrayLength(), outputs.Count);
            }
        }
    }

    [Fact]
    public async Task Metadata_shows_exporter_names_scalar_shapes_and_every_datatype()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("opset17.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");

        var (status, body) = await api.GetAsync("/v2/models/vibration");

        Assert.Equal(200, status);
        var inputs = body.RootElement.GetProperty("inputs").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal("FP32", inputs["x.1"].GetProperty("datatype").GetString());
        Assert.Equal([-1L, 4L], inputs["x.1"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("INT64", inputs["rate"].GetProperty("datatype").GetString());
        Assert.Equal(0, inputs["rate"].GetProperty("shape").GetArrayLength());
        var outputs = body.RootElement.GetProperty("outputs").EnumerateArray().Select(e => e.GetProperty("name").GetString()).ToList();
        Assert.Equal(["53", "count"], outputs.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("opset17.onnx", """{"inputs":[{"name":"x.1","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"rate","shape":[1],"datatype":"INT64","data":[3]}]}""", "input 'rate' has shape [1], model expects [] (rank 0)")]
    [InlineData("opset17.onnx", """{"inputs":[{"name":"x.1","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]},{"name":"rate","shape":[],"datatype":"INT64","data":[3,4]}]}""", "input 'rate' has more data elements than its shape [] holds (1)")]
    [InlineData("half.onnx", """{"inputs":[{"name":"h","shape":[1,3],"datatype":"FP16","data":[1,2,70000]}]}""", "input 'h' data element 2 is not a valid FP16 value (outside the FP16 range)")]
    [InlineData("half.onnx", """{"inputs":[{"name":"h","shape":[1,3],"datatype":"FP32","data":[1,2,3]}]}""", "input 'h' has datatype FP32, model expects FP16")]
    [InlineData("types.onnx", """{"inputs":[{"name":"i8","shape":[1,2],"datatype":"INT8","data":[1,128]}]}""", "input 'i8' data element 1 is not a valid INT8 value")]
    public async Task Out_of_range_values_and_scalar_shapes_are_checked(string model, string request, string expected)
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel(model), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");

        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", request);

        Assert.Equal(400, status);
        Assert.Contains(expected, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_of_a_channels_last_model_shows_its_uint8_NHWC_input()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await DeployAsync(rig, "nhwc.onnx");

        var (status, body) = await api.GetAsync("/v2/models/vibration");

        Assert.Equal(200, status);
        var input = Assert.Single(body.RootElement.GetProperty("inputs").EnumerateArray());
        Assert.Equal("input_1:0", input.GetProperty("name").GetString());
        Assert.Equal("UINT8", input.GetProperty("datatype").GetString());
        Assert.Equal([-1L, 8L, 8L, 3L], input.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        var outputs = body.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal("FP32", outputs["Identity:0"].GetProperty("datatype").GetString());
        Assert.Equal([-1L, 3L], outputs["Identity:0"].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()));
        Assert.Equal("INT64", outputs["Identity_1:0"].GetProperty("datatype").GetString());
    }

    [Fact]
    public async Task Channels_first_pixels_sent_to_a_channels_last_model_are_refused_naming_the_layout_it_expects()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await DeployAsync(rig, "nhwc.onnx");
        // The same 192 pixels as the model's first expected case, but shaped [1,3,8,8] (NCHW): the agent does not transpose.
        var pixels = Expected("nhwc.onnx")[0].GetProperty("request").GetProperty("inputs")[0].GetProperty("data").GetRawText();

        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", $$"""{"inputs":[{"name":"input_1:0","shape":[1,3,8,8],"datatype":"UINT8","data":{{pixels}}}]}""");

        Assert.Equal(400, status);
        Assert.Equal("input 'input_1:0' has shape [1,3,8,8], model expects [-1,8,8,3] (dimension 1 must be 8)", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task A_stateful_model_follows_numpy_step_by_step_when_the_caller_feeds_its_state_back()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await DeployAsync(rig, "stateful.onnx");
        var sequence = Expected("stateful.onnx").GetProperty("sequences")[0];

        var state = sequence.GetProperty("initial_state");
        var step = 0;
        foreach (var expected in sequence.GetProperty("steps").EnumerateArray())
        {
            state = await StepAsync(api, $"sequence 0 step {step++}", expected, state);
        }

        Assert.True(step > 3, "the sequence has several steps");
    }

    [Fact]
    public async Task Two_callers_running_their_own_state_sequences_at_once_do_not_see_each_other()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        using var other = rig.Api();
        await DeployAsync(rig, "stateful.onnx");
        var sequences = Expected("stateful.onnx").GetProperty("sequences");
        var first = sequences[0].GetProperty("steps");
        var second = sequences[1].GetProperty("steps");
        Assert.Equal(first.GetArrayLength(), second.GetArrayLength());

        // Step k of both callers is in flight together, so the two sequences interleave on the one model; each caller's
        // answers must still be exactly its own sequence's: the agent keeps nothing from one request to the next.
        var states = new[] { sequences[0].GetProperty("initial_state"), sequences[1].GetProperty("initial_state") };
        for (var k = 0; k < first.GetArrayLength(); k++)
        {
            states = await Task.WhenAll(
                StepAsync(api, $"caller 0 step {k}", first[k], states[0]),
                StepAsync(other, $"caller 1 step {k}", second[k], states[1]));
        }
    }

    private static async Task DeployAsync(AgentRig rig, string model)
    {
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel(model), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
    }

    /// <summary>
    /// One step of stateful.onnx: posts the step's "x" with <paramref name="state"/> as "state_in", checks "y" and
    /// "state_out" against numpy's, and returns the agent's own "state_out" for the caller to feed back.
    /// </summary>
    private static async Task<JsonElement> StepAsync(UnixSocketApi api, string what, JsonElement expected, JsonElement state)
    {
        var request = $$"""
            {"inputs":[{{expected.GetProperty("x").GetRawText()}},
             {"name":"state_in","datatype":"FP32","shape":{{state.GetProperty("shape").GetRawText()}},"data":{{state.GetProperty("data").GetRawText()}}}]}
            """;
        var (status, body) = await api.PostAsync("/v2/models/vibration/infer", request);
        Assert.True(status == 200, $"{what}: {status} {body.RootElement}");
        var outputs = body.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
        Assert.Equal(2, outputs.Count);
        AssertTensor($"{what} output 'y'", expected.GetProperty("y"), outputs["y"]);
        AssertTensor($"{what} output 'state_out'", expected.GetProperty("state_out"), outputs["state_out"]);
        return outputs["state_out"].Clone();
    }

    private static void AssertTensor(string what, JsonElement expected, JsonElement actual)
    {
        var datatype = expected.GetProperty("datatype").GetString()!;
        Assert.True(datatype == actual.GetProperty("datatype").GetString(), $"{what}: datatype {actual.GetProperty("datatype")}, expected {datatype}");
        Assert.True(
            expected.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).SequenceEqual(actual.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64())),
            $"{what}: shape {actual.GetProperty("shape")}, expected {expected.GetProperty("shape")}");
        var want = expected.GetProperty("data").EnumerateArray().ToList();
        var got = actual.GetProperty("data").EnumerateArray().ToList();
        Assert.True(want.Count == got.Count, $"{what}: {got.Count} elements, expected {want.Count}");
        for (var i = 0; i < want.Count; i++)
        {
            var ok = got[i].ValueKind != JsonValueKind.Null && datatype switch
            {
                "BOOL" => want[i].GetBoolean() == got[i].GetBoolean(),
                "FP16" => Close(want[i].GetDouble(), got[i].GetDouble(), 1e-3),
                "FP32" => Close(want[i].GetDouble(), got[i].GetDouble(), 1e-5),
                "FP64" => Close(want[i].GetDouble(), got[i].GetDouble(), 1e-12),
                _ => want[i].GetInt64() == got[i].GetInt64(),
            };
            Assert.True(ok, string.Create(CultureInfo.InvariantCulture, $"{what}: element {i} is {got[i]}, expected {want[i]}"));
        }
    }

    private static bool Close(double expected, double actual, double relative) =>
        Math.Abs(expected - actual) <= relative * Math.Max(1.0, Math.Abs(expected));
}
