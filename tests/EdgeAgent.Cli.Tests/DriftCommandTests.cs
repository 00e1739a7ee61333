using System.Text;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// <c>edgectl bundle create --baseline</c> and <c>edgectl drift compare</c> on the sample vibration model, with the data
/// sets tests/fixtures/drift/make_reference.py writes (the shifted one scales rms, peak, freq_khz and high_band).
/// </summary>
public sealed class DriftCommandTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-drift-test-").FullName;

    private static string Model => Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    private static string Data(string name) => Path.Combine(AppContext.BaseDirectory, "drift", name);

    private string Key => Path.Combine(_work, "release.key.pem");

    private string PublicKey => Path.Combine(_work, "release.pub.pem");

    [Fact]
    public async Task A_csv_baseline_signs_every_feature_and_the_outputs_into_the_manifest()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.csv"));

        var inspect = await Edgectl.RunAsync("bundle", "inspect", bundle, "--json");
        using var doc = JsonDocument.Parse(inspect.Stdout);
        var drift = doc.RootElement.GetProperty("manifest").GetProperty("drift");
        Assert.Equal(600, drift.GetProperty("samples").GetInt32());
        Assert.Equal(
            ["rms", "peak", "crest", "kurtosis", "skewness", "freq_khz", "low_band", "high_band"],
            drift.GetProperty("features").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        var rms = drift.GetProperty("features")[0];
        Assert.Equal(9, rms.GetProperty("edges").GetArrayLength());
        Assert.Equal(0, rms.GetProperty("index").GetInt32());
        Assert.Equal(
            ["probabilities[0]", "probabilities[1]", "probabilities[2]", "label"],
            drift.GetProperty("outputs").EnumerateArray().Select(f => f.GetProperty("name").GetString()));
        var label = drift.GetProperty("outputs")[3];
        Assert.Equal("class", label.GetProperty("statistic").GetString());
        Assert.Equal([0L, 1, 2], label.GetProperty("classes").EnumerateArray().Select(c => c.GetInt64()));
        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", PublicKey);
        Assert.True(verify.Code == 0, verify.Stderr);
    }

    [Fact]
    public async Task Data_like_the_baseline_is_no_drift_with_exit_0()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.csv"));

        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", Data("vibration-same.csv"), "--trust", PublicKey);

        Assert.True(compare.Code == 0, compare.Stdout + compare.Stderr);
        Assert.StartsWith("no drift: 300 row(s)", compare.Stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
        Assert.Contains("signature verified", compare.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shifted_data_is_drift_with_exit_7_naming_the_shifted_features()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.csv"));

        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", Data("vibration-shifted.csv"), "--json");

        Assert.Equal(8, compare.Code);
        using var doc = JsonDocument.Parse(compare.Stdout);
        Assert.Equal("drift", doc.RootElement.GetProperty("state").GetString());
        Assert.False(doc.RootElement.GetProperty("verified").GetBoolean());
        var states = doc.RootElement.GetProperty("features").EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.GetProperty("state").GetString());
        Assert.Equal("drift", states["rms"]);
        Assert.Equal("drift", states["freq_khz"]);
        Assert.Equal("ok", states["crest"]);
        var label = doc.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
        Assert.Equal(300, label.GetProperty("count").GetInt32());
    }

    [Fact]
    public async Task Too_few_rows_are_insufficient_and_decide_nothing()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.csv"));

        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", Data("vibration-shifted.csv"), "--min-samples", "301");

        Assert.Equal(0, compare.Code);
        Assert.StartsWith("insufficient data, nothing decided", compare.Stdout.Trim().Split('\n')[^1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_npy_baseline_monitors_the_selected_features()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.npy"), "--baseline-features", "0-1,features:std", "--baseline-bins", "5");

        var manifest = await ManifestAsync(bundle);

        Assert.Equal(["features[0]", "features[1]", "features:std"], manifest.Drift!.Features.Select(f => f.Name));
        Assert.All(manifest.Drift.Features, f => Assert.True(f.Edges!.Count <= 4));
        Assert.Equal(5, manifest.Drift.Bins);
        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", Data("vibration-shifted.csv"));
        Assert.Equal(8, compare.Code);
    }

    [Fact]
    public async Task A_bundle_whose_baseline_was_changed_after_signing_is_refused_with_exit_3()
    {
        var bundle = await CreateAsync("--baseline", Data("vibration-baseline.csv"));
        var signed = JsonSerializer.Deserialize<DsseEnvelope>(BundleArchive.ReadEnvelope(bundle), CoreJson.Options)!;
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(signed.Payload));
        var tampered = signed with { Payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(payload.Replace("\"samples\":600", "\"samples\":601", StringComparison.Ordinal))) };
        Assert.NotEqual(signed.Payload, tampered.Payload);
        var forged = Path.Combine(_work, "forged.edgebundle");
        BundleArchive.Write(forged, JsonSerializer.SerializeToUtf8Bytes(tampered, CoreJson.Options), [("model.onnx", Model)]);

        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", forged, "--data", Data("vibration-same.csv"), "--trust", PublicKey);

        Assert.Equal(3, compare.Code);
        Assert.StartsWith("edgectl: rejected: bad-signature:", compare.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bundle_without_a_baseline_is_one_line_with_exit_1()
    {
        var bundle = await CreateAsync();

        var compare = await Edgectl.RunAsync("drift", "compare", "--bundle", bundle, "--data", Data("vibration-same.csv"));

        Assert.Equal(1, compare.Code);
        Assert.Equal($"edgectl: {bundle}: vibration 1.0.0 carries no drift baseline (build it with 'edgectl bundle create --baseline DATA')", compare.Stderr.Trim());
    }

    [Theory]
    [InlineData("a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7\n", "line 3: 7 values, the header has 8 columns")]
    [InlineData("a,b,c,d,e,f,g,h\n1,abc,3,4,5,6,7,8\n", "line 2, column 'b': 'abc' is not a number")]
    [InlineData("a,b,c,d,e,f,g\n1,2,3,4,5,6,7\n", "has 7 columns, the model takes 8 values per sample ('features' FP32 [-1,8]: 8)")]
    [InlineData("a,b,c,d,e,f,g,h\n", "has a header but no rows")]
    [InlineData("", "is empty (a header row naming the columns is expected first)")]
    [InlineData("1,2,3,4,5,6,7,8\n1,2,3,4,5,6,7,8\n", "line 1 holds numbers: the first line must be a header naming the columns")]
    [InlineData("a,b,c,d,e,f,g,h\n1,2,3,4,5,6,7,1e39\n", "line 2, column 'h': 1E+39 is outside the FP32 range (input 'features' is FP32)")]
    public async Task Bad_csv_baseline_data_is_one_line_naming_the_problem(string csv, string expected)
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var data = Path.Combine(_work, "data.csv");
        await File.WriteAllTextAsync(data, csv, TestContext.Current.CancellationToken);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key, "--out", Path.Combine(_work, "b.edgebundle"), "--baseline", data);

        Assert.Equal(1, create.Code);
        Assert.Single(create.Stderr.Trim().Split('\n'));
        Assert.EndsWith(expected, create.Stderr.Trim(), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_work, "b.edgebundle")));
    }

    [Fact]
    public async Task An_npy_array_of_the_wrong_shape_is_refused()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);
        var data = Path.Combine(_work, "wide.npy");
        await File.WriteAllBytesAsync(data, Npy([3, 9]), TestContext.Current.CancellationToken);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key, "--baseline", data);

        Assert.Equal(1, create.Code);
        Assert.Equal($"edgectl: {data} has shape (3, 9), model input 'features' is [-1,8] (dimension 1 must be 8)", create.Stderr.Trim());
    }

    [Fact]
    public async Task An_unknown_feature_selection_is_refused()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key, "--baseline", Data("vibration-baseline.csv"), "--baseline-features", "rms,speed");

        Assert.Equal(1, create.Code);
        Assert.StartsWith("edgectl: --baseline-features 'speed' is not a column index or range (0..7), a column name, INPUT[i] or INPUT:mean|std", create.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Baseline_options_without_baseline_data_are_a_usage_error()
    {
        await Edgectl.RunAsync("keys", "generate", "--out", _work);

        var create = await Edgectl.RunAsync("bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key, "--baseline-bins", "5");

        Assert.Equal(2, create.Code);
        Assert.Equal("edgectl: --baseline-features and --baseline-bins need --baseline DATA", create.Stderr.Trim());
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private async Task<string> CreateAsync(params string[] extra)
    {
        if (!File.Exists(Key))
        {
            var keys = await Edgectl.RunAsync("keys", "generate", "--out", _work);
            Assert.Equal(0, keys.Code);
        }

        var bundle = Path.Combine(_work, $"vibration-1.0.0.edgebundle");
        var create = await Edgectl.RunAsync(["bundle", "create", "--model", Model, "--name", "vibration", "--version", "1.0.0", "--key", Key, "--out", bundle, .. extra]);
        Assert.True(create.Code == 0, create.Stderr);
        return bundle;
    }

    private static async Task<BundleManifest> ManifestAsync(string bundle)
    {
        var inspect = await Edgectl.RunAsync("bundle", "inspect", bundle, "--json");
        using var doc = JsonDocument.Parse(inspect.Stdout);
        return doc.RootElement.GetProperty("manifest").Deserialize<BundleManifest>(CoreJson.Options)!;
    }

    /// <summary>A float32 .npy array of zeros with this shape.</summary>
    private static byte[] Npy(int[] shape)
    {
        var header = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({string.Join(", ", shape)}), }}";
        header = header.PadRight(118) + "\n";
        var count = shape.Aggregate(1, (a, b) => a * b);
        return [0x93, .. "NUMPY"u8, 1, 0, (byte)header.Length, 0, .. Encoding.Latin1.GetBytes(header), .. new byte[count * 4]];
    }
}
