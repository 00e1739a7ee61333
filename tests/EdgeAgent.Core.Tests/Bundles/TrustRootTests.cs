using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

/// <summary>root.json: k-of-n trust that rotates only with the consent of the keys it replaces.</summary>
public sealed class TrustRootTests
{
    private static TrustRootDocument Root(int version, int threshold, params ECDsa[] keys) => new()
    {
        Version = version,
        Threshold = threshold,
        Expires = Now.AddYears(1),
        Keys = [.. keys.Select(k => new TrustRootKey(KeyIds.Of(k), k.ExportSubjectPublicKeyInfoPem()))],
    };

    private static byte[] SignedRoot(TrustRootDocument root, params ECDsa[] signers) => Serialize(TrustRoot.Sign(root, signers));

    [Fact]
    public void A_root_signed_by_a_threshold_of_its_own_keys_is_accepted()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var c = NewKey();

        var root = TrustRoot.VerifyInitial(SignedRoot(Root(1, 2, a, b, c), a, b), Now);

        using var trust = TrustRoot.ToTrustedKeys(root);
        Assert.Equal(3, trust.Count);
        Assert.Equal(2, trust.Threshold);
    }

    [Fact]
    public void A_root_below_its_own_threshold_is_refused()
    {
        using var a = NewKey();
        using var b = NewKey();

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyInitial(SignedRoot(Root(1, 2, a, b), a), Now));

        Assert.Equal(RejectionReason.BelowThreshold, ex.Reason);
    }

    [Fact]
    public void Rotation_needs_the_old_keys_and_the_new_keys()
    {
        using var a = NewKey();
        using var b = NewKey();
        using var c = NewKey();
        var v1 = TrustRoot.VerifyInitial(SignedRoot(Root(1, 1, a, b), a), Now);
        var v2 = Root(2, 1, b, c);

        Assert.Equal(2, TrustRoot.VerifyRotation(v1, SignedRoot(v2, b, c), Now).Version);
        var onlyNew = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyRotation(v1, SignedRoot(v2 with { Keys = [.. v2.Keys.Where(k => k.KeyId == KeyIds.Of(c))] }, c), Now));
        Assert.Equal(RejectionReason.UnknownKey, onlyNew.Reason);
    }

    [Fact]
    public void A_rotation_that_is_not_newer_is_refused()
    {
        using var a = NewKey();
        var v2 = TrustRoot.VerifyInitial(SignedRoot(Root(2, 1, a), a), Now);

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyRotation(v2, SignedRoot(Root(2, 1, a), a), Now));

        Assert.Equal(TrustRoot.RootVersion, ex.Reason);
    }

    [Fact]
    public void Key_compromise_drill_after_rotation_the_revoked_key_signs_nothing_that_counts()
    {
        using var compromised = NewKey();
        using var b = NewKey();
        using var c = NewKey();
        var v1 = TrustRoot.VerifyInitial(SignedRoot(Root(1, 2, compromised, b, c), compromised, b), Now);

        // The operators rotate to a root without the compromised key, signed by 2 old keys and 2 new ones.
        var v2 = TrustRoot.VerifyRotation(v1, SignedRoot(Root(2, 2, b, c), b, c), Now);
        using var trust = TrustRoot.ToTrustedKeys(v2);

        var ex = Rejected(Signed(Manifest(), compromised), trust);
        Assert.Equal(RejectionReason.UnknownKey, ex.Reason);

        // Alone, the compromised key cannot rotate the root back to itself either.
        var comeback = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyRotation(v2, SignedRoot(Root(3, 1, compromised), compromised), Now));
        Assert.Equal(RejectionReason.UnknownKey, comeback.Reason);
    }

    [Fact]
    public void An_expired_root_is_refused()
    {
        using var a = NewKey();

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyInitial(SignedRoot(Root(1, 1, a) with { Expires = Now.AddDays(-1) }, a), Now));

        Assert.Equal(RejectionReason.Expired, ex.Reason);
    }

    [Fact]
    public void A_key_id_that_is_not_the_hash_of_its_key_is_refused()
    {
        using var a = NewKey();
        using var b = NewKey();
        var root = Root(1, 1, a) with { Keys = [new TrustRootKey(KeyIds.Of(b), a.ExportSubjectPublicKeyInfoPem())] };

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyInitial(SignedRoot(root, a), Now));

        Assert.Equal(TrustRoot.RootInvalid, ex.Reason);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void A_threshold_outside_one_to_the_number_of_keys_is_refused(int threshold)
    {
        using var a = NewKey();
        using var b = NewKey();

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyInitial(SignedRoot(Root(1, threshold, a, b), a, b), Now));

        Assert.Equal(TrustRoot.RootInvalid, ex.Reason);
    }

    [Fact]
    public void A_manifest_envelope_is_not_a_root()
    {
        using var a = NewKey();

        var ex = Assert.Throws<BundleRejectedException>(() => TrustRoot.VerifyInitial(Signed(Manifest(), a), Now));

        Assert.Equal(RejectionReason.WrongPayloadType, ex.Reason);
    }
}
