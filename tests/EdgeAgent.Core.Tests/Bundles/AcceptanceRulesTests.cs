using System.Text;
using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class AcceptanceRulesTests
{
    private static readonly byte[] AcceptanceBytes = Encoding.UTF8.GetBytes("""{"vectors":[]}""");

    private static BundleManifest WithAcceptance(BundleAcceptance acceptance) =>
        Manifest() with { Files = [Entry(), Entry("acceptance.json", AcceptanceBytes)], Acceptance = acceptance };

    private static BundleRejectedException Refused(BundleManifest manifest) =>
        Assert.Throws<BundleRejectedException>(() => ManifestVerifier.CheckRules(manifest, new VerificationPolicy(), Now));

    [Fact]
    public void Signed_acceptance_field_verifies_and_comes_back_unchanged()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var verified = Verify(Signed(WithAcceptance(new BundleAcceptance { File = "acceptance.json", Tolerance = 0.001, WarmupRuns = 5 }), key), trust);

        Assert.Equal(new BundleAcceptance { File = "acceptance.json", Tolerance = 0.001, WarmupRuns = 5 }, verified.Acceptance);
        Assert.Equal("acceptance.json", verified.AcceptanceFile!.Path);
    }

    [Fact]
    public void Manifest_without_acceptance_has_none_and_omits_the_field()
    {
        var json = Encoding.UTF8.GetString(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(Manifest(), CoreJson.Options));

        Assert.DoesNotContain("acceptance", json, StringComparison.Ordinal);
        ManifestVerifier.CheckRules(Manifest(), new VerificationPolicy(), Now);
    }

    [Fact]
    public void Omitted_tolerance_and_warmup_take_the_defaults()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var json = System.Text.Json.JsonSerializer.Serialize(WithAcceptance(new BundleAcceptance { File = "acceptance.json" }), CoreJson.Options);
        var payload = json.Replace(",\"tolerance\":0.0001,\"warmupRuns\":3", string.Empty, StringComparison.Ordinal);
        Assert.Contains("\"acceptance\":{\"file\":\"acceptance.json\"}", payload, StringComparison.Ordinal);

        var verified = Verify(Serialize(ManifestSigner.SignPayload(DsseEnvelope.ManifestPayloadType, Encoding.UTF8.GetBytes(payload), [key])), trust);

        Assert.Equal(BundleAcceptance.DefaultTolerance, verified.Acceptance!.Tolerance);
        Assert.Equal(BundleAcceptance.DefaultWarmupRuns, verified.Acceptance.WarmupRuns);
    }

    [Fact]
    public void Warmup_only_acceptance_needs_no_file()
    {
        ManifestVerifier.CheckRules(Manifest() with { Acceptance = new BundleAcceptance { WarmupRuns = 10 } }, new VerificationPolicy(), Now);
    }

    [Fact]
    public void Acceptance_file_that_is_not_listed_is_malformed()
    {
        var ex = Refused(Manifest() with { Acceptance = new BundleAcceptance { File = "acceptance.json" } });

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Equal("malformed-manifest: acceptance file 'acceptance.json' is not among the files", ex.Describe());
    }

    [Fact]
    public void Acceptance_file_that_is_the_model_is_malformed()
    {
        var ex = Refused(WithAcceptance(new BundleAcceptance { File = "model.onnx" }));

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("is the model file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../acceptance.json")]
    [InlineData("/etc/passwd")]
    [InlineData("a/./b.json")]
    public void Acceptance_file_path_that_escapes_is_unsafe(string path)
    {
        var ex = Refused(WithAcceptance(new BundleAcceptance { File = path }));

        Assert.Equal(RejectionReason.UnsafePath, ex.Reason);
    }

    [Fact]
    public void Acceptance_file_over_one_mebibyte_is_too_large()
    {
        var big = Entry("acceptance.json", new byte[BundleAcceptance.MaxFileBytes + 1], chunkSize: 65536);

        var ex = Refused(Manifest() with { Files = [Entry(), big], Acceptance = new BundleAcceptance { File = "acceptance.json" } });

        Assert.Equal(RejectionReason.TooLarge, ex.Reason);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Tolerance_must_be_finite_and_not_negative(double tolerance)
    {
        var ex = Refused(WithAcceptance(new BundleAcceptance { File = "acceptance.json", Tolerance = tolerance }));

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("tolerance", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(101)]
    public void Warmup_runs_must_be_0_to_100(int runs)
    {
        var ex = Refused(WithAcceptance(new BundleAcceptance { File = "acceptance.json", WarmupRuns = runs }));

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("warmupRuns", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    public void Warmup_runs_at_the_bounds_are_accepted(int runs) =>
        ManifestVerifier.CheckRules(WithAcceptance(new BundleAcceptance { File = "acceptance.json", WarmupRuns = runs, Tolerance = 0 }), new VerificationPolicy(), Now);
}
