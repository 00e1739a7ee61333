using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// Triton's binary tensor extension on the local API: the JSON request is the first
/// <c>Inference-Header-Content-Length</c> bytes of the body, inputs with <c>parameters.binary_data_size</c> follow as
/// raw little-endian bytes, and outputs asked for as binary come back the same way.
/// </summary>
public sealed class BinaryTensorTests
{
    private const string Header = "Inference-Header-Content-Length";

    /// <summary>The 3x8 features of samples/vibration/request.json.</summary>
    private static float[] SampleFeatures()
    {
        using var doc = JsonDocument.Parse(AgentRig.SampleRequest);
        return [.. doc.RootElement.GetProperty("inputs")[0].GetProperty("data").EnumerateArray().Select(e => e.GetSingle())];
    }

    private static byte[] Bytes(float[] values)
    {
        var bytes = new byte[values.Length * 4];
        for (var i = 0; i < values.Length; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), values[i]);
        }

        return bytes;
    }

    private static HttpRequestMessage Request(string model, JsonObject json, byte[] binary, int? headerLength = null)
    {
        var head = Encoding.UTF8.GetBytes(json.ToJsonString());
        var message = new HttpRequestMessage(HttpMethod.Post, $"/v2/models/{model}/infer") { Content = new ByteArrayContent([.. head, .. binary]) };
        message.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/octet-stream");
        message.Headers.Add(Header, (headerLength ?? head.Length).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return message;
    }

    private static JsonObject FeaturesInput(int size) => new()
    {
        ["name"] = "features",
        ["shape"] = new JsonArray(3, 8),
        ["datatype"] = "FP32",
        ["parameters"] = new JsonObject { ["binary_data_size"] = size },
    };

    /// <summary>Splits a binary response into its JSON part and the binary data of each output, by name.</summary>
    private static async Task<(JsonDocument Json, Dictionary<string, byte[]> Binary, string? ContentType)> ReadAsync(HttpResponseMessage response)
    {
        var body = await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken);
        var length = response.Headers.TryGetValues(Header, out var values) ? int.Parse(values.Single(), System.Globalization.CultureInfo.InvariantCulture) : body.Length;
        var json = JsonDocument.Parse(body.AsMemory(0, length));
        var binary = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var offset = length;
        foreach (var output in json.RootElement.GetProperty("outputs").EnumerateArray())
        {
            if (output.TryGetProperty("parameters", out var p) && p.TryGetProperty("binary_data_size", out var size))
            {
                binary[output.GetProperty("name").GetString()!] = body[offset..(offset + size.GetInt32())];
                offset += size.GetInt32();
            }
        }

        Assert.Equal(body.Length, offset);
        return (json, binary, response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Binary_inputs_and_outputs_carry_the_same_numbers_as_json()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var (status, viaJson) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
        var jsonOutputs = viaJson.RootElement.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);

        var request = new JsonObject { ["inputs"] = new JsonArray(FeaturesInput(96)), ["parameters"] = new JsonObject { ["binary_data_output"] = true } };
        using var response = await api.SendAsync(Request("vibration", request, Bytes(SampleFeatures())));
        Assert.Equal(200, (int)response.StatusCode);
        var (json, binary, contentType) = await ReadAsync(response);

        Assert.Equal("application/octet-stream", contentType);
        var probabilities = binary["probabilities"];
        Assert.Equal(9 * 4, probabilities.Length);
        var expected = jsonOutputs["probabilities"].GetProperty("data").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(expected, Enumerable.Range(0, 9).Select(i => BinaryPrimitives.ReadSingleLittleEndian(probabilities.AsSpan(i * 4))));
        var labels = binary["label"];
        Assert.Equal(jsonOutputs["label"].GetProperty("data").EnumerateArray().Select(e => e.GetInt64()), Enumerable.Range(0, 3).Select(i => BinaryPrimitives.ReadInt64LittleEndian(labels.AsSpan(i * 8))));
        foreach (var output in json.RootElement.GetProperty("outputs").EnumerateArray())
        {
            Assert.False(output.TryGetProperty("data", out _), $"binary output {output} must not also carry JSON data");
        }

        // Same shape again: served from the buffers the first request sized, with the same answer.
        using var again = await api.SendAsync(Request("vibration", request, Bytes(SampleFeatures())));
        var (_, binaryAgain, _) = await ReadAsync(again);
        Assert.Equal(probabilities, binaryAgain["probabilities"]);
    }

    [Fact]
    public async Task Only_the_outputs_asked_for_as_binary_come_back_binary()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var request = JsonNode.Parse(AgentRig.SampleRequest)!.AsObject();
        request["outputs"] = new JsonArray(
            new JsonObject { ["name"] = "label", ["parameters"] = new JsonObject { ["binary_data"] = true } },
            new JsonObject { ["name"] = "probabilities" });
        using var message = new HttpRequestMessage(HttpMethod.Post, "/v2/models/vibration/infer") { Content = new StringContent(request.ToJsonString(), Encoding.UTF8, "application/json") };

        using var response = await api.SendAsync(message);
        var (json, binary, _) = await ReadAsync(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal(["label"], binary.Keys);
        Assert.Equal([0L, 1L, 2L], Enumerable.Range(0, 3).Select(i => BinaryPrimitives.ReadInt64LittleEndian(binary["label"].AsSpan(i * 8))));
        var outputs = json.RootElement.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()).ToList();
        Assert.Equal(["label", "probabilities"], outputs);
        Assert.Equal(9, json.RootElement.GetProperty("outputs")[1].GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Fp16_travels_bit_exact_as_binary_data()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("half.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
        Half[] h = [(Half)0.5, (Half)(-1.25), (Half)1000, (Half)3.140625, (Half)1e-3, (Half)(-2)];
        var bytes = new byte[h.Length * 2];
        for (var i = 0; i < h.Length; i++)
        {
            BinaryPrimitives.WriteHalfLittleEndian(bytes.AsSpan(i * 2), h[i]);
        }

        var request = new JsonObject
        {
            ["inputs"] = new JsonArray(new JsonObject { ["name"] = "h", ["shape"] = new JsonArray(2, 3), ["datatype"] = "FP16", ["parameters"] = new JsonObject { ["binary_data_size"] = bytes.Length } }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "h2", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        };
        using var response = await api.SendAsync(Request(AgentRig.Model, request, bytes));
        var (json, binary, _) = await ReadAsync(response);

        Assert.Equal(200, (int)response.StatusCode);
        Assert.Equal("FP16", json.RootElement.GetProperty("outputs")[0].GetProperty("datatype").GetString());
        Assert.Equal(h.Select(v => v * (Half)2), Enumerable.Range(0, h.Length).Select(i => BinaryPrimitives.ReadHalfLittleEndian(binary["h2"].AsSpan(i * 2))));
    }

    [Theory]
    [InlineData(95, 96, null, "input 'features' binary_data_size is 95, its shape [3,8] of FP32 needs 96 bytes")]
    [InlineData(96, 100, null, "the request carries 100 bytes of binary data after its JSON header, but its inputs' binary_data_size add up to 96")]
    [InlineData(96, 50, null, "input 'features' needs 96 bytes of binary data, but only 50 are left after the JSON header and the inputs before it")]
    [InlineData(96, 96, 100000, "is not a byte count within the")]
    public async Task Inconsistent_binary_requests_are_refused_with_a_message_naming_what_is_wrong(int declared, int sent, int? headerLength, string message)
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var request = new JsonObject { ["inputs"] = new JsonArray(FeaturesInput(declared)) };

        using var response = await api.SendAsync(Request("vibration", request, new byte[sent], headerLength));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Contains(message, body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        var (status, _) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(200, status);
    }

    [Fact]
    public async Task An_input_with_both_json_data_and_binary_data_is_refused()
    {
        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        using var api = rig.Api();
        var input = FeaturesInput(96);
        input["data"] = new JsonArray([.. SampleFeatures().Select(v => (JsonNode)v)]);

        using var response = await api.SendAsync(Request("vibration", new JsonObject { ["inputs"] = new JsonArray(input) }, Bytes(SampleFeatures())));
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(400, (int)response.StatusCode);
        Assert.Equal("input 'features' has both \"data\" and parameters.binary_data_size; send one of them", body.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Bool_binary_elements_must_be_zero_or_one_and_come_back_as_one_byte_each()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();
        await rig.PublishAsync(rig.BuildBundleOf(AgentRig.FixtureModel("types.onnx"), "1.0.0"));
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Active", "1.0.0");
        JsonObject Json(string name, string datatype) => new() { ["name"] = name, ["shape"] = new JsonArray(1, 2), ["datatype"] = datatype, ["data"] = new JsonArray(1, 2) };
        JsonObject RequestWithFlag() => new()
        {
            ["inputs"] = new JsonArray(
                Json("f64", "FP64"), Json("i8", "INT8"), Json("i16", "INT16"), Json("i32", "INT32"), Json("i64", "INT64"), Json("u8", "UINT8"),
                new JsonObject { ["name"] = "flag", ["shape"] = new JsonArray(1, 2), ["datatype"] = "BOOL", ["parameters"] = new JsonObject { ["binary_data_size"] = 2 } }),
            ["outputs"] = new JsonArray(new JsonObject { ["name"] = "flag_out", ["parameters"] = new JsonObject { ["binary_data"] = true } }),
        };

        using var good = await api.SendAsync(Request(AgentRig.Model, RequestWithFlag(), [1, 0]));
        var (_, binary, _) = await ReadAsync(good);
        using var bad = await api.SendAsync(Request(AgentRig.Model, RequestWithFlag(), [1, 2]));
        using var error = JsonDocument.Parse(await bad.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));

        Assert.Equal(200, (int)good.StatusCode);
        Assert.Equal([0, 1], binary["flag_out"]);
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("input 'flag' binary element 1 is 2; BOOL elements are one byte, 0 or 1", error.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task Server_metadata_announces_the_extension()
    {
        await using var rig = await AgentRig.StartAsync();
        using var api = rig.Api();

        var (status, body) = await api.GetAsync("/v2");

        Assert.Equal(200, status);
        Assert.Contains("binary_tensor_data", body.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetString()));
    }

    [Fact]
    public async Task Curl_can_send_a_binary_request_built_with_standard_tools()
    {
        var curl = new[] { "/usr/bin/curl", "/bin/curl" }.FirstOrDefault(File.Exists);
        if (curl is null)
        {
            Assert.Skip("curl is not installed");
        }

        await using var rig = await AgentRig.StartAsync();
        await rig.DeployActiveAsync();
        var head = Encoding.UTF8.GetBytes(new JsonObject { ["inputs"] = new JsonArray(FeaturesInput(96)) }.ToJsonString());
        var file = Path.Combine(rig.Work, "request.bin");
        await File.WriteAllBytesAsync(file, [.. head, .. Bytes(SampleFeatures())], TestContext.Current.CancellationToken);

        using var process = Process.Start(new ProcessStartInfo(curl, ["-sS", "--unix-socket", rig.Socket, "http://localhost/v2/models/vibration/infer", "-H", $"{Header}: {head.Length}", "-H", "Content-Type: application/octet-stream", "--data-binary", "@" + file])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);

        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken));
        using var doc = JsonDocument.Parse(output);
        var label = doc.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
        Assert.Equal([0L, 1L, 2L], label.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
    }
}
