using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

/// <summary>k-of-n signatures: a device that trusts n keys and needs k of them.</summary>
public sealed class ThresholdTests
{
    [Fact]
    public void Two_of_three_trusted_signatures_meet_a_threshold_of_two()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var c = NewKey();
        using var trust = Trust(a, b, c);
        trust.Threshold = 2;
        var envelope = Serialize(ManifestSigner.Sign(Manifest(), [a, c]));

        var manifest = ManifestVerifier.Verify(envelope, trust, new VerificationPolicy { Architecture = "x64" }, Now, out var signedBy);

        Assert.Equal("vibration", manifest.Name);
        Assert.Equal([KeyIds.Of(a), KeyIds.Of(c)], signedBy.Split(','));
    }

    [Fact]
    public void One_signature_is_below_a_threshold_of_two()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var trust = Trust(a, b);
        trust.Threshold = 2;

        var ex = Rejected(Signed(Manifest(), a), trust);

        Assert.Equal(RejectionReason.BelowThreshold, ex.Reason);
        Assert.Contains("2 are needed", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_key_signing_twice_counts_once()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var trust = Trust(a, b);
        trust.Threshold = 2;
        var once = ManifestSigner.Sign(Manifest(), [a]);
        var twice = once with { Signatures = [once.Signatures[0], once.Signatures[0]] };

        Assert.Equal(RejectionReason.BelowThreshold, Rejected(Serialize(twice), trust).Reason);
    }

    [Fact]
    public void A_signature_by_an_untrusted_key_does_not_count_toward_the_threshold()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var stranger = NewKey();
        using var trust = Trust(a, b);
        trust.Threshold = 2;

        var ex = Rejected(Serialize(ManifestSigner.Sign(Manifest(), [a, stranger])), trust);

        Assert.Equal(RejectionReason.BelowThreshold, ex.Reason);
    }

    [Fact]
    public void Threshold_must_be_positive()
    {
        using var trust = new TrustedKeys();

        Assert.Throws<ArgumentOutOfRangeException>(() => trust.Threshold = 0);
    }
}
