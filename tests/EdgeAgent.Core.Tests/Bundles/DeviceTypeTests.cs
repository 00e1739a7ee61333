using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class DeviceTypeTests
{
    [Fact]
    public void A_bundle_for_other_device_types_is_refused()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest() with { DeviceTypes = ["pump-v2"] }, key), trust, new VerificationPolicy { Architecture = "x64", DeviceType = "fan-v1" });

        Assert.Equal(RejectionReason.WrongDeviceType, ex.Reason);
        Assert.Contains("this device is fan-v1", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_without_a_type_refuses_a_bundle_that_names_types()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest() with { DeviceTypes = ["pump-v2"] }, key), trust, new VerificationPolicy { Architecture = "x64", DeviceType = string.Empty });

        Assert.Equal(RejectionReason.WrongDeviceType, ex.Reason);
        Assert.Contains("no Agent:DeviceType", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("pump-v2")]
    [InlineData("PUMP-V2")]
    public void A_matching_type_or_a_bundle_for_any_type_is_accepted(string deviceType)
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var policy = new VerificationPolicy { Architecture = "x64", DeviceType = deviceType };

        Assert.Equal("vibration", Verify(Signed(Manifest() with { DeviceTypes = ["pump-v2", "pump-v3"] }, key), trust, policy).Name);
        Assert.Equal("vibration", Verify(Signed(Manifest(), key), trust, policy).Name);
    }
}
