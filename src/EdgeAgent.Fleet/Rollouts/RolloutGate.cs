using System.Text.Json;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>
/// The rollout's decisions, without I/O or clocks: the initial state, which devices a wave targets, what each device's
/// report means for it, and whether to wait, advance, complete or abort. <see cref="RolloutDriver"/> does the MQTT.
/// </summary>
public static class RolloutGate
{
    /// <summary>A failure report older than the device's targeting by more than this is from before the rollout and is ignored.</summary>
    public static readonly TimeSpan ClockSkewTolerance = TimeSpan.FromSeconds(30);

    public static RolloutDocument Start(RolloutRequest request, DateTimeOffset now, string writer)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Targets.Count == 0)
        {
            throw new ArgumentException("the rollout has no target devices");
        }

        var targets = request.Targets.Distinct(StringComparer.Ordinal).ToList();
        return new RolloutDocument
        {
            Id = request.Id,
            Model = request.Model,
            Version = request.Version,
            Group = request.Group,
            Targets = targets,
            Waves = [.. request.Waves.Select(w => w.ToString())],
            WaveSizes = WavePlan.CumulativeSizes(request.Waves, targets.Count),
            SuccessThreshold = request.SuccessThreshold,
            AbortThreshold = request.AbortThreshold,
            ProbationSeconds = request.Probation is { } p ? (int)Math.Ceiling(p.TotalSeconds) : null,
            WaveTimeoutSeconds = request.WaveTimeout.TotalSeconds,
            RollbackSucceeded = request.RollbackSucceeded,
            State = RolloutStates.Running,
            CurrentWave = 0,
            Devices = targets.ToDictionary(t => t, _ => RolloutDevice.Pending, StringComparer.Ordinal),
            Created = now,
            Updated = now,
            Revision = 0,
            Writer = writer,
        };
    }

    /// <summary>The devices the next wave adds; empty when every wave has started.</summary>
    public static IReadOnlyList<string> NextWave(RolloutDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        return doc.CurrentWave >= doc.WaveSizes.Count ? [] : WavePlan.DevicesOf(doc.Targets, doc.WaveSizes, doc.CurrentWave + 1);
    }

    /// <summary>Marks the next wave's devices targeted, keeping each one's previous desired document (null: none was retained).</summary>
    public static RolloutDocument TargetNextWave(RolloutDocument doc, IReadOnlyDictionary<string, JsonElement?> previousDesired, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(previousDesired);
        var wave = doc.CurrentWave + 1;
        var devices = new Dictionary<string, RolloutDevice>(doc.Devices, StringComparer.Ordinal);
        foreach (var id in NextWave(doc))
        {
            devices[id] = new RolloutDevice
            {
                Status = RolloutDeviceStatus.Targeted,
                Wave = wave,
                Targeted = now,
                Deadline = now + TimeSpan.FromSeconds(doc.WaveTimeoutSeconds),
                PreviousDesired = previousDesired.TryGetValue(id, out var previous) ? previous : null,
                Updated = now,
            };
        }

        return doc with { CurrentWave = wave, Devices = devices, Updated = now };
    }

    /// <summary>What one targeted device's report means: succeeded, failed, or still targeted (and failed once past its deadline).</summary>
    public static RolloutDevice Observe(RolloutDevice device, string version, DeviceReport? report, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Status != RolloutDeviceStatus.Targeted)
        {
            return device;
        }

        if (report is { State: "Active" } && report.ActiveVersion == version)
        {
            return device with { Status = RolloutDeviceStatus.Succeeded, Reason = null, Updated = now };
        }

        if (report is { Pinned: true })
        {
            // A local install wins over the fleet on that device: waiting for the wave timeout would not change it.
            return device with { Status = RolloutDeviceStatus.Failed, Reason = $"pinned: the device runs {report.Version} installed locally with edgectl install (edgectl release hands the model back)", Updated = now };
        }

        // A failure the device retries by itself (broker or disk away, a restart mid-download, attempts left) is not
        // final: the device is still deploying, and the wave timeout bounds how long the rollout waits for it.
        if (report is { State: "Failed" or "RolledBack", Retrying: false } && report.Version == version && IsFresh(device, report))
        {
            return device with { Status = RolloutDeviceStatus.Failed, Reason = $"{report.State}: {report.Reason ?? "no reason given"}", Updated = now };
        }

        if (device.Deadline is { } deadline && now >= deadline)
        {
            var seen = report is null ? "nothing reported for the model" : $"last reported {report.State} {report.Version}";
            return device with { Status = RolloutDeviceStatus.Failed, Reason = $"timeout: not Active within the wave timeout ({seen})", Updated = now };
        }

        return device;
    }

    /// <summary>
    /// A failure counts only when it was reported after the device was targeted: a retained report from an earlier
    /// attempt (received before targeting, or stamped well before it) is not this rollout's failure.
    /// </summary>
    public static bool IsFresh(RolloutDevice device, DeviceReport report)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(report);
        if (device.Targeted is not { } targeted)
        {
            return false;
        }

        return report.ReceivedAt >= targeted && (report.Updated is not { } updated || updated >= targeted - ClockSkewTolerance);
    }

    /// <summary>Applies every targeted device's latest report; returns the same instance when nothing changed.</summary>
    public static RolloutDocument Observe(RolloutDocument doc, IReadOnlyDictionary<string, DeviceReport> reports, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(doc);
        ArgumentNullException.ThrowIfNull(reports);
        Dictionary<string, RolloutDevice>? changed = null;
        foreach (var (id, device) in doc.Devices)
        {
            var next = Observe(device, doc.Version, reports.GetValueOrDefault(id), now);
            if (next.Status != device.Status)
            {
                changed ??= new Dictionary<string, RolloutDevice>(doc.Devices, StringComparer.Ordinal);
                changed[id] = next;
            }
        }

        return changed is null ? doc : doc with { Devices = changed, Updated = now };
    }

    /// <summary>Wait, advance, complete or abort, from the device statuses alone.</summary>
    public static GateDecision Decide(RolloutDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        if (doc.CurrentWave == 0)
        {
            return GateDecision.Advance;
        }

        var counts = doc.Counts;
        if (counts.TargetedSoFar > 0 && counts.Failed > doc.AbortThreshold * counts.TargetedSoFar)
        {
            return new GateDecision(GateAction.Abort, $"{counts.Failed} of {counts.TargetedSoFar} targeted device(s) failed ({Fractions.Format((decimal)counts.Failed / counts.TargetedSoFar)}), above the abort threshold {Fractions.Format(doc.AbortThreshold)}");
        }

        var wave = WavePlan.DevicesOf(doc.Targets, doc.WaveSizes, doc.CurrentWave).Select(id => doc.Devices[id]).ToList();
        var required = WavePlan.Required(doc.SuccessThreshold, wave.Count);
        var succeeded = wave.Count(d => d.Status == RolloutDeviceStatus.Succeeded);
        var open = wave.Count(d => d.Status == RolloutDeviceStatus.Targeted);
        if (succeeded + open < required)
        {
            return new GateDecision(GateAction.Abort, $"wave {doc.CurrentWave}: {wave.Count - succeeded - open} of {wave.Count} device(s) failed, so at most {succeeded + open} can succeed; the success threshold {Fractions.Format(doc.SuccessThreshold)} needs {required}");
        }

        if (succeeded < required)
        {
            return GateDecision.Wait;
        }

        if (doc.CurrentWave < doc.WaveSizes.Count)
        {
            return GateDecision.Advance;
        }

        // Last wave passed: finish once no device is still deploying (a late failure still counts against the abort threshold).
        return counts.Targeted == 0
            ? new GateDecision(GateAction.Complete, counts.Failed == 0 ? null : $"{counts.Failed} device(s) failed, within the abort threshold {Fractions.Format(doc.AbortThreshold)}")
            : GateDecision.Wait;
    }

    /// <summary>The devices an abort writes back: those the rollout targeted and that did not succeed (all targeted ones with <see cref="RolloutDocument.RollbackSucceeded"/>), not yet restored.</summary>
    public static IReadOnlyList<string> ToRestore(RolloutDocument doc)
    {
        ArgumentNullException.ThrowIfNull(doc);
        return [.. doc.Targets.Where(id => doc.Devices[id] is { IsTargeted: true } d && d.Restored != true && (doc.RollbackSucceeded || d.Status != RolloutDeviceStatus.Succeeded))];
    }

    /// <summary>Devices that are in an open wave when a paused rollout resumes get a fresh deadline: paused time does not count.</summary>
    public static RolloutDocument Resume(RolloutDocument doc, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(doc);
        var devices = doc.Devices.ToDictionary(
            kv => kv.Key,
            kv => kv.Value.Status == RolloutDeviceStatus.Targeted ? kv.Value with { Deadline = now + TimeSpan.FromSeconds(doc.WaveTimeoutSeconds) } : kv.Value,
            StringComparer.Ordinal);
        return doc with { State = RolloutStates.Running, Devices = devices, Updated = now };
    }
}
