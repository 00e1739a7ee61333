using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

/// <summary>Anti-rollback: versions only go up, unless a signed manifest says <c>rollbackOf</c>.</summary>
public sealed class RollbackTests
{
    private static AcceptedVersion Accepted(byte[] envelope, string version) =>
        new(version, ManifestVerifier.PayloadSha256(envelope));

    private static VerificationPolicy After(AcceptedVersion highest) => new() { Architecture = "x64", HighestAccepted = highest };

    [Fact]
    public void A_lower_version_is_refused()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var two = Signed(Manifest(version: "2.0.0"), key);

        var ex = Rejected(Signed(Manifest(version: "1.9.9"), key), trust, After(Accepted(two, "2.0.0")));

        Assert.Equal(RejectionReason.Downgrade, ex.Reason);
        Assert.Contains("rollbackOf 2.0.0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_higher_version_is_accepted()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var one = Signed(Manifest(version: "1.0.0"), key);

        Assert.Equal("1.0.1", Verify(Signed(Manifest(version: "1.0.1"), key), trust, After(Accepted(one, "1.0.0"))).Version);
    }

    [Fact]
    public void The_same_version_is_accepted_again_only_with_the_same_manifest()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var original = Signed(Manifest(version: "2.0.0"), key);
        var highest = Accepted(original, "2.0.0");

        Assert.Equal("2.0.0", Verify(original, trust, After(highest)).Version);
        var changed = Signed(Manifest(version: "2.0.0") with { Architectures = ["x64"] }, key);
        Assert.Equal(RejectionReason.Downgrade, Rejected(changed, trust, After(highest)).Reason);
    }

    [Fact]
    public void A_signed_rollbackOf_at_least_the_highest_version_permits_going_back()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var two = Signed(Manifest(version: "2.0.0"), key);

        var rollback = Signed(Manifest(version: "1.0.0") with { RollbackOf = "2.0.0" }, key);

        Assert.Equal("1.0.0", Verify(rollback, trust, After(Accepted(two, "2.0.0"))).Version);
    }

    [Fact]
    public void A_rollbackOf_below_the_highest_version_is_not_enough()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var three = Signed(Manifest(version: "3.0.0"), key);

        var rollback = Signed(Manifest(version: "1.0.0") with { RollbackOf = "2.0.0" }, key);

        Assert.Equal(RejectionReason.Downgrade, Rejected(rollback, trust, After(Accepted(three, "3.0.0"))).Reason);
    }

    [Fact]
    public void A_rollbackOf_that_is_not_higher_than_the_version_is_a_malformed_manifest()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest(version: "1.0.0") with { RollbackOf = "1.0.0" }, key), trust);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
    }

    [Fact]
    public void Payload_digest_is_the_sha256_of_the_signed_manifest_bytes()
    {
        using var key = NewKey();
        var envelope = ManifestSigner.Sign(Manifest(), [key]);

        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Convert.FromBase64String(envelope.Payload))), ManifestVerifier.PayloadSha256(Serialize(envelope)));
    }
}
