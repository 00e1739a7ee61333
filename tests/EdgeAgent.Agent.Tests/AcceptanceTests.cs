using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeAgent.Agent.Tests;

/// <summary>Staging's acceptance vectors and warm-up runs, on real ONNX Runtime sessions.</summary>
public sealed partial class AcceptanceTests : IDisposable
{
    private static readonly string SampleAcceptance = Path.Combine(AppContext.BaseDirectory, "samples", "acceptance.json");

    private readonly string _dir = Directory.CreateTempSubdirectory("edgeagent-acceptance-").FullName;
    private readonly AcceptanceRunner _runner = new(TimeProvider.System);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);

    private static OnnxModel Load(string path) => OnnxModel.Load("m", "1.0.0", path);

    /// <summary>An installed version folder holding <paramref name="acceptanceJson"/>, and a manifest that lists it.</summary>
    private BundleManifest Installed(string? acceptanceJson, double tolerance = BundleAcceptance.DefaultTolerance, int warmupRuns = BundleAcceptance.DefaultWarmupRuns)
    {
        var model = new BundleFileEntry { Path = "model.onnx", Sha256 = new string('0', 64), Length = 0, ChunkSize = 65536, Chunks = [] };
        if (acceptanceJson is null)
        {
            return new BundleManifest { Name = "m", Version = "1.0.0", Model = "model.onnx", Files = [model], Acceptance = new BundleAcceptance { Tolerance = tolerance, WarmupRuns = warmupRuns } };
        }

        var bytes = Encoding.UTF8.GetBytes(acceptanceJson);
        File.WriteAllBytes(Path.Combine(_dir, "acceptance.json"), bytes);
        using var stream = new MemoryStream(bytes);
        return new BundleManifest
        {
            Name = "m",
            Version = "1.0.0",
            Model = "model.onnx",
            Files = [model, ChunkTable.Describe("acceptance.json", stream, 65536)],
            Acceptance = new BundleAcceptance { File = "acceptance.json", Tolerance = tolerance, WarmupRuns = warmupRuns },
        };
    }

    private string Failure(OnnxModel model, BundleManifest manifest)
    {
        var ex = Assert.Throws<BundleRejectedException>(() => _runner.Run(model, manifest, _dir, TestContext.Current.CancellationToken));
        Assert.Equal(RejectionReason.AcceptanceFailed, ex.Reason);
        Assert.DoesNotContain('\n', ex.Describe());
        return ex.Describe();
    }

    /// <summary>The sample's acceptance file with one expected value replaced.</summary>
    private static string SampleWith(string vector, string output, int element, JsonNode value)
    {
        var root = JsonNode.Parse(File.ReadAllText(SampleAcceptance))!;
        var v = root["vectors"]!.AsArray().Single(n => (string)n!["name"]! == vector)!;
        var o = v["outputs"]!.AsArray().Single(n => (string)n!["name"]! == output)!;
        o["data"]![element] = value;
        return root.ToJsonString();
    }

    private const string SqrtVector = """
        {"vectors":[{"name":"roots","inputs":[{"name":"x","shape":[1,4],"datatype":"FP32","data":[[0,1,4,9]]}],
                     "outputs":[{"name":"y","datatype":"FP32","shape":[1,4],"data":[[0,1,2,3]]}]}]}
        """;

    [Fact]
    public void Sample_bundle_passes_its_acceptance_vectors_and_warms_up()
    {
        using var model = Load(AgentRigSample);

        var result = _runner.Run(model, Installed(File.ReadAllText(SampleAcceptance)), _dir, TestContext.Current.CancellationToken);

        Assert.Equal(4, result.VectorsPassed);
        Assert.Equal(3, result.WarmupRuns);
        Assert.True(result.WarmupMeanMilliseconds > 0, $"warm-up mean {result.WarmupMeanMilliseconds} ms");
    }

    private static string AgentRigSample => Infrastructure.AgentRig.SampleModel;

    [Fact]
    public void Bundle_built_with_the_sample_acceptance_file_passes_once_installed()
    {
        using var key = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var bundle = BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = AgentRigSample,
            Name = "vibration",
            Version = "1.0.0",
            Keys = [key],
            OutPath = Path.Combine(_dir, "vibration-1.0.0.edgebundle"),
            AcceptancePath = SampleAcceptance,
            WarmupRuns = 5,
        });
        var version = Directory.CreateDirectory(Path.Combine(_dir, "models", "vibration", "1.0.0")).FullName;
        BundleArchive.ForEachFile(bundle.Path, bundle.Manifest, (file, stream) =>
        {
            using var copy = File.Create(Path.Combine(version, file.Path));
            stream.CopyTo(copy);
        });
        using var model = OnnxModel.Load("vibration", "1.0.0", Path.Combine(version, bundle.Manifest.Model));

        var result = _runner.Run(model, bundle.Manifest, version, TestContext.Current.CancellationToken);

        Assert.Equal(4, result.VectorsPassed);
        Assert.Equal(5, result.WarmupRuns);
    }

    [Fact]
    public void Wrong_expected_value_fails_naming_vector_output_element_values_and_tolerance()
    {
        using var model = Load(AgentRigSample);

        var reason = Failure(model, Installed(SampleWith("warning", "probabilities", 1, 0.5)));

        Assert.Matches(WrongValue(), reason);
    }

    [GeneratedRegex(@"^acceptance-failed: vector 'warning' output 'probabilities' element 1: expected 0\.5, got 0\.979\d*, tolerance 0\.0001$")]
    private static partial Regex WrongValue();

    [Fact]
    public void Wrong_expected_label_fails_as_an_exact_integer_comparison()
    {
        using var model = Load(AgentRigSample);

        var reason = Failure(model, Installed(SampleWith("batch", "label", 2, 1)));

        Assert.Equal("acceptance-failed: vector 'batch' output 'label' element 2: expected 1, got 2, exact", reason);
    }

    [Fact]
    public void Nan_output_where_a_finite_value_is_expected_fails()
    {
        using var model = Load(Fixture("sqrt.onnx"));
        var acceptance = SqrtVector.Replace("[[0,1,4,9]]}]", "[[-1,1,4,9]]}]", StringComparison.Ordinal);

        var reason = Failure(model, Installed(acceptance));

        Assert.Equal("acceptance-failed: vector 'roots' output 'y' element 0: expected 0, got NaN, tolerance 0.0001", reason);
    }

    [Fact]
    public void Nan_is_accepted_where_nan_is_expected()
    {
        using var model = Load(Fixture("sqrt.onnx"));
        var acceptance = SqrtVector.Replace("[[0,1,4,9]]}]", "[[-1,1,4,9]]}]", StringComparison.Ordinal).Replace("[[0,1,2,3]]", "[[\"NaN\",1,2,3]]", StringComparison.Ordinal);

        var result = _runner.Run(model, Installed(acceptance), _dir, TestContext.Current.CancellationToken);

        Assert.Equal(1, result.VectorsPassed);
    }

    [Fact]
    public void Input_shape_that_does_not_fit_the_model_fails_with_the_serving_message()
    {
        using var model = Load(AgentRigSample);
        var root = JsonNode.Parse(File.ReadAllText(SampleAcceptance))!;
        var input = root["vectors"]![0]!["inputs"]![0]!;
        input["shape"] = new JsonArray(1, 7);
        input["data"]!.AsArray().RemoveAt(7);

        var reason = Failure(model, Installed(root.ToJsonString()));

        Assert.Equal("acceptance-failed: vector 'normal': input 'features' has shape [1,7], model expects [-1,8] (dimension 1 must be 8)", reason);
    }

    [Fact]
    public void Output_shape_other_than_expected_fails()
    {
        using var model = Load(Fixture("sqrt.onnx"));

        var reason = Failure(model, Installed(SqrtVector.Replace("\"shape\":[1,4],\"data\":[[0,1,2,3]]", "\"shape\":[4],\"data\":[0,1,2,3]", StringComparison.Ordinal)));

        Assert.Equal("acceptance-failed: vector 'roots' output 'y' has shape [1,4], expected [4]", reason);
    }

    [Fact]
    public void Expected_data_with_another_element_count_fails()
    {
        using var model = Load(Fixture("sqrt.onnx"));

        var reason = Failure(model, Installed(SqrtVector.Replace("\"shape\":[1,4],\"data\":[[0,1,2,3]]", "\"data\":[0,1,2]", StringComparison.Ordinal)));

        Assert.Equal("acceptance-failed: vector 'roots' output 'y' has 4 elements, the expected data has 3", reason);
    }

    [Fact]
    public void Another_model_with_the_same_schema_fails_the_vectors()
    {
        using var model = Load(Fixture("twice.onnx"));

        var reason = Failure(model, Installed(SqrtVector));

        Assert.Equal("acceptance-failed: vector 'roots' output 'y' element 1: expected 1, got 2, tolerance 0.0001", reason);
    }

    [Fact]
    public void Tolerance_is_absolute_and_relative()
    {
        using var model = Load(Fixture("sqrt.onnx"));
        // sqrt(9) = 3: 3.0003 is within 1e-4 · (1 + 3.0003); 3.0005 is not.
        var near = SqrtVector.Replace("[[0,1,2,3]]", "[[0,1,2,3.0003]]", StringComparison.Ordinal);
        var far = SqrtVector.Replace("[[0,1,2,3]]", "[[0,1,2,3.0005]]", StringComparison.Ordinal);

        Assert.Equal(1, _runner.Run(model, Installed(near), _dir, TestContext.Current.CancellationToken).VectorsPassed);
        Assert.Equal("acceptance-failed: vector 'roots' output 'y' element 3: expected 3.0005, got 3, tolerance 0.0001", Failure(model, Installed(far)));
    }

    [Fact]
    public void Vector_tolerance_overrides_the_manifest_tolerance()
    {
        using var model = Load(Fixture("sqrt.onnx"));
        var off = SqrtVector.Replace("[[0,1,2,3]]", "[[0,1,2,3.01]]", StringComparison.Ordinal);

        Assert.Contains("tolerance 0.001", Failure(model, Installed(off, tolerance: 0.001)), StringComparison.Ordinal);
        Assert.Equal(1, _runner.Run(model, Installed(off.Replace("{\"name\":\"roots\",", "{\"name\":\"roots\",\"tolerance\":0.01,", StringComparison.Ordinal), tolerance: 0.001), _dir, TestContext.Current.CancellationToken).VectorsPassed);
    }

    [Fact]
    public void Several_inputs_integer_inputs_and_bool_outputs_compare_exactly()
    {
        using var model = Load(Fixture("mixed.onnx"));
        const string Acceptance = """
            {"vectors":[{"name":"mixed","inputs":[
                {"name":"x","shape":[2,3],"datatype":"FP32","data":[[1,-2,0],[0.5,3,-1]]},
                {"name":"k","shape":[1],"datatype":"INT64","data":[3]}],
              "outputs":[{"name":"y","data":[3,-6,0,1.5,9,-3]},{"name":"positive","datatype":"BOOL","data":[true,false,false,true,true,false]}]}]}
            """;

        Assert.Equal(1, _runner.Run(model, Installed(Acceptance), _dir, TestContext.Current.CancellationToken).VectorsPassed);
        Assert.Equal(
            "acceptance-failed: vector 'mixed' output 'positive' element 2: expected true, got false, exact",
            Failure(model, Installed(Acceptance.Replace("[true,false,false", "[true,false,true", StringComparison.Ordinal))));
        Assert.Equal(
            "acceptance-failed: vector 'mixed' output 'positive' is BOOL, expected INT64",
            Failure(model, Installed(Acceptance.Replace("\"datatype\":\"BOOL\"", "\"datatype\":\"INT64\"", StringComparison.Ordinal))));
    }

    [Fact]
    public void Unknown_expected_output_fails_naming_the_outputs_the_model_has()
    {
        using var model = Load(Fixture("sqrt.onnx"));

        var reason = Failure(model, Installed(SqrtVector.Replace("{\"name\":\"y\"", "{\"name\":\"z\"", StringComparison.Ordinal)));

        Assert.Equal("acceptance-failed: vector 'roots': requested output 'z' does not exist; model 'm' has y", reason);
    }

    [Fact]
    public void Acceptance_file_that_is_not_valid_fails()
    {
        using var model = Load(Fixture("sqrt.onnx"));

        var reason = Failure(model, Installed("""{"vectors":[]}"""));

        Assert.Equal("acceptance-failed: acceptance file 'acceptance.json' holds 0 vectors; 1 to 1000 are needed", reason);
    }

    [Fact]
    public void Without_acceptance_vectors_warm_up_runs_on_zero_filled_inputs()
    {
        using var model = Load(Fixture("mixed.onnx"));

        var result = _runner.Run(model, new BundleManifest { Name = "m", Version = "1.0.0", Model = "model.onnx", Files = [] }, _dir, TestContext.Current.CancellationToken);

        Assert.Equal(new AcceptanceResult(0, BundleAcceptance.DefaultWarmupRuns, result.WarmupMeanMilliseconds), result);
        Assert.True(result.WarmupMeanMilliseconds > 0);
    }

    [Fact]
    public void Zero_warmup_runs_make_none()
    {
        using var model = Load(Fixture("sqrt.onnx"));

        var result = _runner.Run(model, Installed(SqrtVector, warmupRuns: 0), _dir, TestContext.Current.CancellationToken);

        Assert.Equal(new AcceptanceResult(1, 0, 0), result);
    }

    [Fact]
    public void The_agent_host_provides_the_runner()
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Agent:StateDirectory"] = Path.Combine(_dir, "state"), ["Agent:ApiSocket"] = Path.Combine(_dir, "api.sock") })
            .Build();
        using var host = AgentHost.Build(configuration);

        Assert.NotNull(host.Services.GetRequiredService<AcceptanceRunner>());
    }
}
