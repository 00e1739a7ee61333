using System.Text;
using System.Text.Json;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Drift;

public sealed class DriftManifestTests
{
    private static readonly DriftBaseline Baseline = new()
    {
        Samples = 1000,
        Bins = 4,
        Features =
        [
            new DriftDistribution { Name = "features[3]", Input = "features", Index = 3, Statistic = DriftStatistic.Value, Edges = [-1.5, 0.25, 2], Proportions = [0.25, 0.25, 0.25, 0.25] },
            new DriftDistribution { Name = "features:mean", Input = "features", Statistic = DriftStatistic.Mean, Edges = [0.5], Proportions = [0.5, 0.5] },
        ],
        Outputs = [new DriftDistribution { Name = "label", Output = "label", Statistic = DriftStatistic.Class, Classes = [0, 1, 2], Proportions = [0.33, 0.33, 0.34] }],
    };

    private static BundleManifest WithDrift(DriftBaseline? drift = null) => Manifest() with { Drift = drift ?? Baseline };

    [Fact]
    public void The_drift_object_is_written_in_the_contract_shape()
    {
        using var doc = JsonDocument.Parse(JsonSerializer.SerializeToUtf8Bytes(WithDrift(), CoreJson.Options));
        var drift = doc.RootElement.GetProperty("drift");

        Assert.Equal(["samples", "bins", "features", "outputs", "thresholds"], drift.EnumerateObject().Select(p => p.Name));
        var value = drift.GetProperty("features")[0];
        Assert.Equal(["name", "input", "index", "statistic", "edges", "proportions"], value.EnumerateObject().Select(p => p.Name));
        Assert.Equal("value", value.GetProperty("statistic").GetString());
        var mean = drift.GetProperty("features")[1];
        Assert.Equal(JsonValueKind.Null, mean.GetProperty("index").ValueKind);
        Assert.Equal("mean", mean.GetProperty("statistic").GetString());
        var label = drift.GetProperty("outputs")[0];
        Assert.Equal(["name", "output", "index", "statistic", "classes", "proportions"], label.EnumerateObject().Select(p => p.Name));
        Assert.Equal("class", label.GetProperty("statistic").GetString());
        Assert.Equal(0.25, drift.GetProperty("thresholds").GetProperty("psi").GetProperty("raise").GetDouble());
        Assert.Equal(0.10, drift.GetProperty("thresholds").GetProperty("ks").GetProperty("clear").GetDouble());
    }

    [Fact]
    public void A_signed_baseline_comes_back_from_verification_unchanged()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var verified = Verify(Signed(WithDrift(), key), trust);

        Assert.NotNull(verified.Drift);
        Assert.Equal(Baseline.Features[0].Edges, verified.Drift.Features[0].Edges);
        Assert.Null(verified.Drift.Features[1].Index);
        Assert.Equal(Baseline.Outputs[0].Classes, verified.Drift.Outputs[0].Classes);
        Assert.Equal(DriftThresholds.Default, verified.Drift.Thresholds);
    }

    [Fact]
    public void A_manifest_without_drift_has_no_drift_field_and_verifies_as_before()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = Signed(Manifest(), key);

        var payload = Encoding.UTF8.GetString(UnverifiedManifest.Read(envelope).Payload);
        var verified = Verify(envelope, trust);

        Assert.DoesNotContain("\"drift\"", payload, StringComparison.Ordinal);
        Assert.Null(verified.Drift);
    }

    [Fact]
    public void A_tampered_baseline_fails_the_signature_check()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var signed = ManifestSigner.Sign(WithDrift(), [key]);
        var payload = Encoding.UTF8.GetString(Convert.FromBase64String(signed.Payload));
        Assert.Contains("\"edges\":[-1.5,0.25,2]", payload, StringComparison.Ordinal);
        var tampered = payload.Replace("\"edges\":[-1.5,0.25,2]", "\"edges\":[-1.5,0.25,9]", StringComparison.Ordinal);

        var ex = Rejected(Serialize(signed with { Payload = Convert.ToBase64String(Encoding.UTF8.GetBytes(tampered)) }), trust);

        Assert.Equal(RejectionReason.BadSignature, ex.Reason);
    }

    public static TheoryData<string, DriftBaseline> Malformed() => new()
    {
        { "add up to", Baseline with { Features = [Baseline.Features[0] with { Proportions = [0.5, 0.5, 0.5, 0.5] }] } },
        { "strictly ascending", Baseline with { Features = [Baseline.Features[0] with { Edges = [2, 0.25, -1.5] }] } },
        { "proportions", Baseline with { Features = [Baseline.Features[0] with { Proportions = [0.5, 0.5] }] } },
        { "does not have", Baseline with { Features = [Baseline.Features[0] with { Input = "pixels" }] } },
        { "index", Baseline with { Features = [Baseline.Features[0] with { Index = null }] } },
        { "statistic", Baseline with { Features = [Baseline.Outputs[0] with { Input = "features", Output = null }] } },
        { "clear", Baseline with { Thresholds = new DriftThresholds { Psi = new(0.1, 0.2) } } },
        { "listed twice", Baseline with { Features = [Baseline.Features[0], Baseline.Features[0]] } },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void A_signed_but_malformed_baseline_is_refused(string expected, DriftBaseline drift)
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(WithDrift(drift), key), trust);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("drift baseline", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }
}
