using System.Text.Json;
using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Fleet.Tests.Rollouts;

public sealed class RolloutGateTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 27, 2, 0, 0, TimeSpan.Zero);

    private static RolloutDocument Start(int devices, string waves = "1,10%,50%,100%", decimal success = 0.95m, decimal abort = 0.05m, bool rollbackSucceeded = false) =>
        RolloutGate.Start(
            new RolloutRequest
            {
                Id = "r1",
                Model = "vibration",
                Version = "1.1.0",
                Targets = [.. Enumerable.Range(1, devices).Select(i => $"dev-{i:00}")],
                Waves = WavePlan.Parse(waves),
                SuccessThreshold = success,
                AbortThreshold = abort,
                WaveTimeout = TimeSpan.FromMinutes(10),
                RollbackSucceeded = rollbackSucceeded,
            },
            T0,
            "test");

    private static RolloutDocument Target(RolloutDocument doc, DateTimeOffset at) =>
        RolloutGate.TargetNextWave(doc, RolloutGate.NextWave(doc).ToDictionary(id => id, _ => (JsonElement?)null), at);

    private static DeviceReport Active(string version, DateTimeOffset at) => new("Active", version, version, null, at, at);

    private static DeviceReport Failed(string version, string reason, DateTimeOffset at) => new("Failed", version, "1.0.0", reason, at, at);

    private static RolloutDocument Observe(RolloutDocument doc, DateTimeOffset now, params (string Id, DeviceReport Report)[] reports) =>
        RolloutGate.Observe(doc, reports.ToDictionary(r => r.Id, r => r.Report), now);

    [Fact]
    public void A_new_rollout_starts_its_first_wave_at_once()
    {
        var doc = Start(20);
        Assert.Equal(GateAction.Advance, RolloutGate.Decide(doc).Action);
        Assert.Equal(["dev-01"], RolloutGate.NextWave(doc));
        doc = Target(doc, T0);
        Assert.Equal(1, doc.CurrentWave);
        Assert.Equal(RolloutDeviceStatus.Targeted, doc.Devices["dev-01"].Status);
        Assert.Equal(T0.AddMinutes(10), doc.Devices["dev-01"].Deadline);
        Assert.Equal(RolloutDeviceStatus.Pending, doc.Devices["dev-02"].Status);
        Assert.Equal(GateAction.Wait, RolloutGate.Decide(doc).Action);
    }

    [Fact]
    public void Only_Active_on_the_version_counts_as_success()
    {
        var doc = Target(Start(20), T0);
        var t = T0.AddSeconds(5);
        Assert.Equal(RolloutDeviceStatus.Targeted, Observe(doc, t, ("dev-01", new DeviceReport("Probation", "1.1.0", "1.1.0", null, t, t))).Devices["dev-01"].Status);
        Assert.Equal(RolloutDeviceStatus.Targeted, Observe(doc, t, ("dev-01", Active("1.0.0", t))).Devices["dev-01"].Status);
        var passed = Observe(doc, t, ("dev-01", Active("1.1.0", t)));
        Assert.Equal(RolloutDeviceStatus.Succeeded, passed.Devices["dev-01"].Status);
        Assert.Equal(GateAction.Advance, RolloutGate.Decide(passed).Action);
        Assert.Equal(["dev-02"], RolloutGate.NextWave(passed));
    }

    [Fact]
    public void A_failure_in_the_second_wave_passes_the_abort_threshold()
    {
        var doc = Target(Start(20), T0);
        doc = Observe(doc, T0.AddSeconds(1), ("dev-01", Active("1.1.0", T0.AddSeconds(1))));
        doc = Target(doc, T0.AddSeconds(2));
        Assert.Equal(2, doc.CurrentWave);
        doc = Observe(doc, T0.AddSeconds(3), ("dev-01", Active("1.1.0", T0.AddSeconds(1))), ("dev-02", Failed("1.1.0", "wrong-device-type: bundle targets type-a", T0.AddSeconds(3))));
        Assert.Equal(RolloutDeviceStatus.Failed, doc.Devices["dev-02"].Status);
        Assert.Contains("wrong-device-type", doc.Devices["dev-02"].Reason, StringComparison.Ordinal);
        var decision = RolloutGate.Decide(doc);
        Assert.Equal(GateAction.Abort, decision.Action);
        Assert.Contains("1 of 2 targeted device(s) failed (50%), above the abort threshold 5%", decision.Reason, StringComparison.Ordinal);
        // Succeeded devices keep the version unless asked; failed and still-deploying ones are written back.
        Assert.Equal(["dev-02"], RolloutGate.ToRestore(doc));
        Assert.Equal(["dev-01", "dev-02"], RolloutGate.ToRestore(doc with { RollbackSucceeded = true }));
    }

    [Fact]
    public void Failures_within_the_abort_threshold_do_not_abort_while_the_wave_can_still_pass()
    {
        // 100 devices, waves 10 then 100; success 80 %, abort above 5 %.
        var doc = Target(Start(100, "10,100%", success: 0.8m, abort: 0.05m), T0);
        var t = T0.AddSeconds(1);
        doc = Observe(doc, t, [.. Enumerable.Range(1, 8).Select(i => ($"dev-{i:00}", Active("1.1.0", t)))]);
        doc = Target(doc, t);
        Assert.Equal(2, doc.CurrentWave);
        var reports = Enumerable.Range(1, 100).Select(i => ($"dev-{i:00}", i is 9 or 10 or 11 or 12 ? Failed("1.1.0", "hash-mismatch", t.AddSeconds(1)) : Active("1.1.0", t.AddSeconds(1)))).ToArray();
        doc = Observe(doc, t.AddSeconds(1), [.. reports.Where(r => r.Item1 != "dev-50")]);
        // 4 of 99 decided failed: 4 % of 100 targeted, not above 5 %; dev-50 still deploying.
        Assert.Equal(GateAction.Wait, RolloutGate.Decide(doc).Action);
        doc = Observe(doc, t.AddSeconds(2), ("dev-50", Active("1.1.0", t.AddSeconds(2))));
        var done = RolloutGate.Decide(doc);
        Assert.Equal(GateAction.Complete, done.Action);
        Assert.Contains("4 device(s) failed", done.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wave_that_can_no_longer_reach_the_success_threshold_aborts()
    {
        // abort threshold 50 % is not reached by one failure in three, but 95 % of the wave cannot succeed any more.
        var doc = Target(Start(3, "100%", success: 0.95m, abort: 0.5m), T0);
        doc = Observe(doc, T0.AddSeconds(1), ("dev-02", Failed("1.1.0", "timeout", T0.AddSeconds(1))));
        var decision = RolloutGate.Decide(doc);
        Assert.Equal(GateAction.Abort, decision.Action);
        Assert.Contains("the success threshold 95% needs 3", decision.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_that_is_not_Active_by_its_deadline_fails_with_timeout()
    {
        var doc = Target(Start(2, "1,100%"), T0);
        var early = T0.AddMinutes(9);
        Assert.Same(doc, Observe(doc, early, ("dev-01", new DeviceReport("Fetching", "1.1.0", null, null, early, early))));
        var late = T0.AddMinutes(10);
        doc = Observe(doc, late, ("dev-01", new DeviceReport("Fetching", "1.1.0", null, null, early, early)));
        Assert.Equal(RolloutDeviceStatus.Failed, doc.Devices["dev-01"].Status);
        Assert.StartsWith("timeout: ", doc.Devices["dev-01"].Reason, StringComparison.Ordinal);
        Assert.Contains("last reported Fetching 1.1.0", doc.Devices["dev-01"].Reason, StringComparison.Ordinal);
        Assert.Equal(GateAction.Abort, RolloutGate.Decide(doc).Action);
    }

    [Fact]
    public void A_failure_the_device_retries_by_itself_is_not_counted_until_the_wave_timeout()
    {
        var doc = Target(Start(2, "1,100%"), T0);
        var retrying = new DeviceReport("Failed", "1.1.0", "1.0.0", "interrupted while Fetching", T0.AddSeconds(3), T0.AddSeconds(3)) { Retrying = true };

        Assert.Equal(RolloutDeviceStatus.Targeted, Observe(doc, T0.AddSeconds(3), ("dev-01", retrying)).Devices["dev-01"].Status);
        var final = Observe(doc, T0.AddSeconds(4), ("dev-01", retrying with { Retrying = false, Reason = "hash-mismatch: chunk 3", ReceivedAt = T0.AddSeconds(4) })).Devices["dev-01"];
        Assert.Equal(RolloutDeviceStatus.Failed, final.Status);
        var timedOut = Observe(doc, T0.AddMinutes(10), ("dev-01", retrying)).Devices["dev-01"];
        Assert.Equal(RolloutDeviceStatus.Failed, timedOut.Status);
        Assert.StartsWith("timeout: ", timedOut.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_device_pinned_by_a_local_install_fails_at_once_with_the_reason()
    {
        var doc = Target(Start(2, "1,100%"), T0);
        var pinned = new DeviceReport("Active", "1.5.0", "1.5.0", null, T0.AddHours(-1), T0.AddSeconds(-5)) { Pinned = true };

        var device = Observe(doc, T0.AddSeconds(1), ("dev-01", pinned)).Devices["dev-01"];

        Assert.Equal(RolloutDeviceStatus.Failed, device.Status);
        Assert.StartsWith("pinned: the device runs 1.5.0 installed locally", device.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_failure_reported_before_the_device_was_targeted_is_not_counted()
    {
        var doc = Target(Start(2, "1,100%"), T0);
        // The retained report of an earlier attempt: received before targeting.
        var stale = new DeviceReport("Failed", "1.1.0", "1.0.0", "timeout", T0.AddHours(-2), T0.AddSeconds(-1));
        Assert.Equal(RolloutDeviceStatus.Targeted, Observe(doc, T0.AddSeconds(1), ("dev-01", stale)).Devices["dev-01"].Status);
        // Received after targeting (a restarted driver re-reads it) but stamped hours before: still not this rollout's failure.
        var reread = stale with { ReceivedAt = T0.AddSeconds(2) };
        Assert.Equal(RolloutDeviceStatus.Targeted, Observe(doc, T0.AddSeconds(2), ("dev-01", reread)).Devices["dev-01"].Status);
        var fresh = new DeviceReport("RolledBack", "1.1.0", "1.0.0", "probation: error rate 12% > 5%", T0.AddSeconds(3), T0.AddSeconds(3));
        var failed = Observe(doc, T0.AddSeconds(3), ("dev-01", fresh)).Devices["dev-01"];
        Assert.Equal(RolloutDeviceStatus.Failed, failed.Status);
        Assert.Equal("RolledBack: probation: error rate 12% > 5%", failed.Reason);
    }

    [Fact]
    public void The_last_wave_completes_only_when_no_device_is_still_deploying()
    {
        var doc = Target(Start(20, "100%", success: 0.9m, abort: 0.2m), T0);
        var t = T0.AddSeconds(1);
        doc = Observe(doc, t, [.. Enumerable.Range(1, 19).Select(i => ($"dev-{i:00}", Active("1.1.0", t)))]);
        Assert.Equal(GateAction.Wait, RolloutGate.Decide(doc).Action);
        doc = Observe(doc, t, ("dev-20", Failed("1.1.0", "io-error: disk full", t)));
        var decision = RolloutGate.Decide(doc);
        Assert.Equal(GateAction.Complete, decision.Action);
    }

    [Fact]
    public void Resuming_gives_deploying_devices_a_fresh_deadline()
    {
        var doc = Target(Start(2, "1,100%"), T0) with { State = RolloutStates.Paused };
        var resumed = RolloutGate.Resume(doc, T0.AddMinutes(30));
        Assert.Equal(RolloutStates.Running, resumed.State);
        Assert.Equal(T0.AddMinutes(40), resumed.Devices["dev-01"].Deadline);
        Assert.Null(resumed.Devices["dev-02"].Deadline);
    }

    [Fact]
    public void The_state_round_trips_through_its_JSON_with_previous_desired_documents()
    {
        var previous = JsonDocument.Parse("""{"models":[{"name":"vibration","version":"1.0.0","activateAfter":"2026-11-27T02:00:00Z"}]}""").RootElement.Clone();
        var doc = RolloutGate.TargetNextWave(Start(3), new Dictionary<string, JsonElement?> { ["dev-01"] = previous }, T0);
        var json = doc.ToJson();
        var back = RolloutDocument.Parse(json, "t");
        Assert.Equal(doc.Targets, back.Targets);
        Assert.Equal(doc.WaveSizes, back.WaveSizes);
        Assert.Equal(0.95m, back.SuccessThreshold);
        Assert.Equal(previous.GetRawText(), back.Devices["dev-01"].PreviousDesired!.Value.GetRawText());
        Assert.Null(back.Devices["dev-02"].PreviousDesired);
        using var parsed = JsonDocument.Parse(json);
        Assert.Equal("running", parsed.RootElement.GetProperty("state").GetString());
        Assert.Equal(1, parsed.RootElement.GetProperty("counts").GetProperty("targeted").GetInt32());
        Assert.Equal("targeted", parsed.RootElement.GetProperty("devices").GetProperty("dev-01").GetProperty("status").GetString());
        Assert.Throws<InvalidDataException>(() => RolloutDocument.Parse("""{"id":"x"}"""u8, "t"));
        Assert.Throws<InvalidDataException>(() => RolloutDocument.Parse("nope"u8, "t"));
    }
}
