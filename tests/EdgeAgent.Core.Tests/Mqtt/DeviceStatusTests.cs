using System.Text;
using EdgeAgent.Core.Mqtt;

namespace EdgeAgent.Core.Tests.Mqtt;

public sealed class DeviceStatusTests
{
    private static DeviceStatus? Parse(string json) => DeviceStatus.TryParse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void A_late_will_of_an_older_session_does_not_replace_the_newer_birth()
    {
        var birth = Parse("""{"state":"online","deviceId":"dev-1","seq":8,"agentVersion":"0.1.0"}""");
        var lateWill = Parse("""{"state":"offline","deviceId":"dev-1","seq":7}""");

        Assert.False(lateWill!.Supersedes(birth));
        Assert.True(birth!.Supersedes(lateWill));
    }

    [Fact]
    public void The_will_of_the_same_session_is_final_and_a_newer_session_always_wins()
    {
        var birth = new DeviceStatus(DeviceStatus.Online, 8);
        var will = new DeviceStatus(DeviceStatus.Offline, 8);

        Assert.True(will.Supersedes(birth));
        Assert.False(birth.Supersedes(will));
        Assert.True(new DeviceStatus(DeviceStatus.Online, 9).Supersedes(will));
        Assert.True(new DeviceStatus(DeviceStatus.Offline, 9).Supersedes(birth));
        Assert.True(birth.Supersedes(null));
        Assert.False(birth.Supersedes(birth));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("""{"state":"online"}""")]
    [InlineData("""{"state":"sleeping","seq":1}""")]
    [InlineData("""{"state":"online","seq":"1"}""")]
    public void A_message_without_a_known_state_and_a_numeric_seq_is_not_a_status(string json) =>
        Assert.Null(Parse(json));
}
