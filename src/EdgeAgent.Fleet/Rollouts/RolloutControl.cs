using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>
/// Pause, resume and abort from any edgectl: each publishes the new state on <c>{p}/rollouts/{id}</c>; a running
/// <see cref="RolloutDriver"/> sees it and obeys. An abort with no driver alive writes the devices back itself.
/// </summary>
public static class RolloutControl
{
    /// <summary>How long an abort waits for a live driver to write the devices back.</summary>
    public static readonly TimeSpan AbortWait = TimeSpan.FromSeconds(30);

    public static async Task<RolloutDocument> PauseAsync(FleetConnection connection, string id, string writer, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var doc = await ReadExistingAsync(connection, id, cancellationToken);
        if (doc.State != RolloutStates.Running)
        {
            throw new ArgumentException($"rollout '{id}' is {doc.State}; only a running rollout can be paused");
        }

        return await RolloutDriver.PublishAsync(connection, doc with { State = RolloutStates.Paused }, writer, time.GetUtcNow(), cancellationToken);
    }

    /// <summary>Sets a paused rollout running again; the caller drives it when <see cref="RolloutDriver.DriverOfAsync"/> finds no driver.</summary>
    public static async Task<RolloutDocument> ResumeAsync(FleetConnection connection, string id, string writer, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(time);
        var doc = await ReadExistingAsync(connection, id, cancellationToken);
        if (doc.IsFinal)
        {
            throw new ArgumentException($"rollout '{id}' is {doc.State}; nothing to resume");
        }

        return doc.State == RolloutStates.Paused
            ? await RolloutDriver.PublishAsync(connection, RolloutGate.Resume(doc, time.GetUtcNow()), writer, time.GetUtcNow(), cancellationToken)
            : doc;
    }

    /// <summary>
    /// Publishes <c>aborted</c>, then waits for a live driver to write the devices back, or (no driver, or it went
    /// away) writes them back itself. Running it again finishes an abort that was interrupted.
    /// </summary>
    public static async Task<RolloutDocument> AbortAsync(FleetConnection connection, string id, bool rollbackSucceeded, string writer, TimeProvider time, Action<string>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(time);
        var doc = await ReadExistingAsync(connection, id, cancellationToken);
        if (doc.State == RolloutStates.Completed)
        {
            throw new ArgumentException($"rollout '{id}' is completed; nothing to abort");
        }

        if (doc.State != RolloutStates.Aborted || (rollbackSucceeded && !doc.RollbackSucceeded))
        {
            doc = await RolloutDriver.PublishAsync(connection, doc with { State = RolloutStates.Aborted, Reason = doc.State == RolloutStates.Aborted ? doc.Reason : "aborted by operator", RollbackSucceeded = doc.RollbackSucceeded || rollbackSucceeded }, writer, time.GetUtcNow(), cancellationToken);
        }

        if (RolloutGate.ToRestore(doc).Count > 0 && await RolloutDriver.DriverOfAsync(connection, id, cancellationToken: cancellationToken) is { } driver)
        {
            progress?.Invoke($"waiting for the driver {driver} to write the devices back");
            doc = await WaitForDriverAsync(connection, id, doc, cancellationToken);
        }

        if (RolloutGate.ToRestore(doc).Count > 0)
        {
            doc = await RolloutDriver.RollBackAsync(connection, doc, writer, time, progress, cancellationToken);
        }

        return doc;
    }

    private static async Task<RolloutDocument> ReadExistingAsync(FleetConnection connection, string id, CancellationToken cancellationToken) =>
        await RolloutDriver.ReadAsync(connection, id, cancellationToken: cancellationToken)
            ?? throw new ArgumentException($"no rollout '{id}' on {connection.Topics.Rollout(id)}");

    /// <summary>Until the rollout shows no device left to write back, or the driver's lease is gone (then the caller does it).</summary>
    private static async Task<RolloutDocument> WaitForDriverAsync(FleetConnection connection, string id, RolloutDocument doc, CancellationToken cancellationToken)
    {
        var latest = doc;
        var leaseGone = false;
        var topics = connection.Topics;
        void OnMessage(string topic, byte[] payload)
        {
            if (topic == topics.Rollout(id) && payload.Length > 0)
            {
                try
                {
                    latest = RolloutDocument.Parse(payload, topic);
                }
                catch (InvalidDataException)
                {
                    // Not a state: keep the last one.
                }
            }
            else if (topic == topics.RolloutDriver(id) && payload.Length == 0)
            {
                leaseGone = true;
            }
        }

        connection.MessageReceived += OnMessage;
        try
        {
            await connection.WatchAsync(topics.Rollout(id), cancellationToken);
            await connection.WatchAsync(topics.RolloutDriver(id), cancellationToken);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(AbortWait);
            while (!(latest.State == RolloutStates.Aborted && RolloutGate.ToRestore(latest).Count == 0) && !leaseGone)
            {
                try
                {
                    await Task.Delay(100, deadline.Token);
                }
                catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
                {
                    throw new IOException($"the driver of rollout {id} did not write the devices back within {AbortWait.TotalSeconds:0} s; run 'edgectl rollout abort {id}' again once it has stopped");
                }
            }
        }
        finally
        {
            connection.MessageReceived -= OnMessage;
        }

        return latest;
    }
}
