using System.Security.Cryptography;
using System.Text.Json.Nodes;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Tests.Infrastructure;

namespace EdgeAgent.Fleet.Tests.Bundles;

public sealed class AcceptanceBuilderTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly TrustedKeys _trust = new();

    public AcceptanceBuilderTests() => _trust.AddPem(_key.ExportSubjectPublicKeyInfoPem());

    public void Dispose()
    {
        _trust.Dispose();
        _key.Dispose();
        _dir.Dispose();
    }

    private string Out => _dir.File("out/vibration-1.0.0.edgebundle");

    private BundleBuilder.Result Build(string? acceptance, double? tolerance = null, int? warmup = null, string? model = null) =>
        BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = model ?? Samples.VibrationModel,
            Name = "vibration",
            Version = "1.0.0",
            Keys = [_key],
            OutPath = Out,
            AcceptancePath = acceptance,
            Tolerance = tolerance,
            WarmupRuns = warmup,
            Now = Now,
        });

    /// <summary>The sample acceptance file after <paramref name="edit"/>, written to the temp folder.</summary>
    private string Edited(Action<JsonNode> edit)
    {
        var root = JsonNode.Parse(File.ReadAllText(Samples.VibrationAcceptance))!;
        edit(root);
        var path = _dir.File("edited.json");
        File.WriteAllText(path, root.ToJsonString());
        return path;
    }

    private string Written(string json)
    {
        var path = _dir.File("acceptance-input.json");
        File.WriteAllText(path, json);
        return path;
    }

    private string Refused<T>(string? acceptance, double? tolerance = null, int? warmup = null)
        where T : Exception
    {
        var ex = Assert.Throws<T>(() => Build(acceptance, tolerance, warmup));
        Assert.DoesNotContain('\n', ex.Message);
        Assert.False(File.Exists(Out), "nothing is written when the bundle is refused");
        return ex.Message;
    }

    [Fact]
    public void Acceptance_file_is_signed_into_the_manifest_and_stored_in_the_bundle()
    {
        var result = Build(Samples.VibrationAcceptance);

        Assert.Equal(new BundleAcceptance { File = "acceptance.json", Tolerance = 1e-4, WarmupRuns = 3 }, result.Manifest.Acceptance);
        Assert.Equal(4, result.AcceptanceVectors);
        var entry = result.Manifest.AcceptanceFile!;
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Samples.VibrationAcceptance))), entry.Sha256);
        var verified = BundleFileVerifier.Verify(result.Path, _trust, Now);
        Assert.Equal(result.Manifest.Acceptance, verified.Manifest.Acceptance);
        byte[]? stored = null;
        BundleArchive.ForEachFile(result.Path, verified.Manifest, (file, stream) =>
        {
            if (file.Path == "acceptance.json")
            {
                using var copy = new MemoryStream();
                stream.CopyTo(copy);
                stored = copy.ToArray();
            }
        });
        Assert.Equal(File.ReadAllBytes(Samples.VibrationAcceptance), stored);
    }

    [Fact]
    public void Tolerance_and_warmup_runs_are_signed_as_given()
    {
        var result = Build(Samples.VibrationAcceptance, tolerance: 0.01, warmup: 10);

        Assert.Equal(new BundleAcceptance { File = "acceptance.json", Tolerance = 0.01, WarmupRuns = 10 }, BundleFileVerifier.Verify(result.Path, _trust, Now).Manifest.Acceptance);
    }

    [Fact]
    public void Without_acceptance_the_manifest_has_none_and_one_file()
    {
        var result = Build(null);

        Assert.Null(result.Manifest.Acceptance);
        Assert.Single(result.Manifest.Files);
        Assert.Equal(0, result.AcceptanceVectors);
    }

    [Fact]
    public void Warmup_alone_gives_an_acceptance_field_without_a_file()
    {
        var result = Build(null, warmup: 0);

        Assert.Equal(new BundleAcceptance { File = null, WarmupRuns = 0 }, result.Manifest.Acceptance);
        Assert.Single(result.Manifest.Files);
        BundleFileVerifier.Verify(result.Path, _trust, Now);
    }

    [Fact]
    public void Unknown_input_name_is_refused_naming_the_models_inputs()
    {
        var path = Edited(root => root["vectors"]![1]!["inputs"]![0]!["name"] = "feat");

        var message = Refused<InvalidDataException>(path);

        Assert.Equal($"acceptance file {path}: vector 'warning': input 'feat' is not an input of the model (it has 'features' FP32 [-1,8])", message);
    }

    [Fact]
    public void Malformed_json_is_refused_with_one_line()
    {
        var path = Written("""{"vectors":[{"name":"a",""");

        var message = Refused<InvalidDataException>(path);

        Assert.StartsWith($"acceptance file {path}: is not valid JSON (", message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_without_vectors_is_refused()
    {
        var message = Refused<InvalidDataException>(Written("""{"vectors":[]}"""));

        Assert.EndsWith("holds 0 vectors; 1 to 1000 are needed", message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("datatype", "input 'features' needs datatype FP32")]
    [InlineData("shape", "input 'features' needs a shape that fits [-1,8]")]
    [InlineData("output", "output 'score' is not an output of the model (it has 'probabilities' FP32 [-1,3], 'label' INT64 [-1])")]
    [InlineData("output-datatype", "output 'label' is INT64 in the model, not FP32")]
    public void Tensors_that_do_not_fit_the_model_are_refused(string change, string expected)
    {
        var path = Edited(root =>
        {
            var vector = root["vectors"]![0]!;
            switch (change)
            {
                case "datatype":
                    vector["inputs"]![0]!["datatype"] = "FP64";
                    break;
                case "shape":
                    vector["inputs"]![0]!["shape"] = new JsonArray(1, 4, 2);
                    break;
                case "output":
                    vector["outputs"]![0]!["name"] = "score";
                    break;
                case "output-datatype":
                    vector["outputs"]![1]!["datatype"] = "FP32";
                    break;
            }
        });

        var message = Refused<InvalidDataException>(path);

        Assert.EndsWith($"vector 'normal': {expected}", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Vector_missing_a_model_input_is_refused()
    {
        var path = Written("""
            {"vectors":[{"name":"half","inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}],"outputs":[{"name":"y","data":[1,2,3]}]}]}
            """);

        var ex = Assert.Throws<InvalidDataException>(() => Build(path, model: Samples.Fixture("mixed.onnx")));

        Assert.Equal($"acceptance file {path}: vector 'half': input 'k' is missing (the model has 'x' FP32 [-1,3], 'k' INT64 [1])", ex.Message);
        Assert.False(File.Exists(Out));
    }

    [Fact]
    public void Acceptance_file_over_one_mebibyte_is_refused()
    {
        var path = _dir.File("big.json");
        File.WriteAllText(path, "{\"vectors\":[]}" + new string(' ', (int)BundleAcceptance.MaxFileBytes));

        var message = Refused<InvalidDataException>(path);

        Assert.Contains("more than 1048576", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_acceptance_file_is_reported_with_its_path()
    {
        var message = Refused<FileNotFoundException>(_dir.File("absent.json"));

        Assert.Equal($"acceptance file not found: {_dir.File("absent.json")}", message);
    }

    [Theory]
    [InlineData(true, -0.5, null, "tolerance -0.5 must be a finite number ≥ 0")]
    [InlineData(true, double.NaN, null, "tolerance NaN must be a finite number ≥ 0")]
    [InlineData(false, 0.1, null, "a tolerance applies to acceptance vectors: give an acceptance file (--acceptance) too")]
    [InlineData(false, null, 101, "warm-up runs 101 is outside 0..100")]
    [InlineData(true, null, -1, "warm-up runs -1 is outside 0..100")]
    public void Bad_tolerance_or_warmup_is_refused(bool withFile, double? tolerance, int? warmup, string expected)
    {
        var message = Refused<ArgumentException>(withFile ? Samples.VibrationAcceptance : null, tolerance, warmup);

        Assert.Equal(expected, message);
    }
}
