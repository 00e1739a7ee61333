using System.Text;
using EdgeAgent.Fleet.FleetStatus;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.Tests.FleetStatus;

public sealed class FleetViewTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 27, 2, 0, 0, TimeSpan.Zero);

    private static byte[] Bytes(string s) => Encoding.UTF8.GetBytes(s);

    private static byte[] Health(DateTimeOffset at, double interval = 30) => Bytes($$"""{"deviceId":"d","timestamp":"{{at:O}}","intervalSeconds":{{interval}}}""");

    [Theory]
    [InlineData("offline", 1.0, 30.0, "offline")]
    [InlineData("online", 1.0, 30.0, "online")]
    [InlineData("online", 90.0, 30.0, "online")] // exactly 3 intervals: still fresh
    [InlineData("online", 90.5, 30.0, "stale")]
    [InlineData(null, 5.0, 1.0, "stale")]
    [InlineData("offline", 500.0, 30.0, "offline")]
    public void A_heartbeat_older_than_three_intervals_is_stale_and_offline_wins(string? connection, double age, double interval, string state) =>
        Assert.Equal(state, FleetView.Classify(connection, age, interval));

    [Fact]
    public void An_offline_status_of_an_older_session_than_the_fresh_heartbeat_is_a_late_will_and_is_ignored()
    {
        var heartbeat = Bytes($$$"""{"deviceId":"d","timestamp":"{{{Now.AddSeconds(-5):O}}}","intervalSeconds":30,"mqtt":{"reconnects":1,"session":8}}""");

        var late = FleetView.Build("d", Bytes("""{"state":"offline","deviceId":"d","seq":7}"""), null, heartbeat, Now);
        Assert.Equal("online", late.State);
        Assert.Null(late.Connection);

        // The will of the heartbeat's own session (or a newer one) is the device's state.
        Assert.Equal("offline", FleetView.Build("d", Bytes("""{"state":"offline","deviceId":"d","seq":8}"""), null, heartbeat, Now).State);
        Assert.Equal("offline", FleetView.Build("d", Bytes("""{"state":"offline","deviceId":"d","seq":9}"""), null, heartbeat, Now).State);
    }

    [Fact]
    public void A_device_with_no_heartbeat_has_unknown_age_and_is_not_healthy()
    {
        var row = FleetView.Build("d", Bytes("""{"state":"online","seq":3}"""), null, null, Now);
        Assert.Equal("unknown", row.State);
        Assert.False(row.Healthy);
        Assert.Null(row.HeartbeatAgeSeconds);
    }

    [Fact]
    public void A_stale_device_is_never_healthy_even_when_its_status_says_online()
    {
        var row = FleetView.Build("d", Bytes("""{"state":"online","seq":3}"""), null, Health(Now.AddMinutes(-10)), Now);
        Assert.Equal("stale", row.State);
        Assert.False(row.Healthy);
        Assert.Equal(600, row.HeartbeatAgeSeconds);
    }

    [Fact]
    public void A_fresh_online_device_shows_its_models_and_is_healthy_unless_a_deployment_failed()
    {
        var reported = Bytes("""{"deviceId":"d","agentVersion":"0.1.0","deviceType":"pump","groups":["line-a"],"models":[{"name":"vibration","state":"Active","version":"1.1.0","activeVersion":"1.1.0"}]}""");
        var row = FleetView.Build("d", Bytes("""{"state":"online"}"""), reported, Health(Now.AddSeconds(-5)), Now);
        Assert.Equal("online", row.State);
        Assert.True(row.Healthy);
        Assert.Equal(["line-a"], row.Groups);
        Assert.Equal("pump", row.DeviceType);
        Assert.Equal(new FleetDeviceModel("vibration", "1.1.0", "1.1.0", "Active", null), Assert.Single(row.Models));

        var failed = Bytes("""{"models":[{"name":"vibration","state":"Failed","version":"1.2.0","activeVersion":"1.1.0","reason":"timeout: no manifest"}]}""");
        Assert.False(FleetView.Build("d", Bytes("""{"state":"online"}"""), failed, Health(Now.AddSeconds(-5)), Now).Healthy);
    }

    [Fact]
    public void Unreadable_documents_count_as_not_seen_and_a_missing_interval_means_30_seconds()
    {
        var row = FleetView.Build("d", Bytes("garbage"), Bytes("[1]"), Bytes("""{"timestamp":"2026-11-27T01:59:00Z"}"""), Now);
        Assert.Null(row.Connection);
        Assert.Empty(row.Models);
        Assert.Equal("online", row.State); // 60 s ≤ 3 × 30 s
        Assert.Equal("stale", FleetView.Build("d", null, null, Bytes("""{"timestamp":"2026-11-27T01:58:29Z"}"""), Now).State);
    }

    [Theory]
    [InlineData("edgeagent/v1/devices/+/status", "edgeagent/v1/devices/dev-1/status", true)]
    [InlineData("edgeagent/v1/devices/+/status", "edgeagent/v1/devices/dev-1/reported", false)]
    [InlineData("edgeagent/v1/devices/+/status", "edgeagent/v1/devices/a/b/status", false)]
    [InlineData("edgeagent/v1/rollouts/+", "edgeagent/v1/rollouts/r1/driver", false)]
    [InlineData("edgeagent/v1/#", "edgeagent/v1/rollouts/r1/driver", true)]
    public void Topic_filters_match_as_MQTT_does(string filter, string topic, bool matches) =>
        Assert.Equal(matches, RetainedSnapshot.Matches(filter, topic));
}
