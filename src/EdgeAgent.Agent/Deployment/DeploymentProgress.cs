using System.Collections.Concurrent;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Download progress of the deployment under way per model (in memory; <c>reported</c> shows it). <see cref="Changed"/>
/// fires at most once a second per model, so a fast download does not flood the broker with reported documents.
/// </summary>
public sealed class DeploymentProgress
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public DeploymentProgress(TimeProvider time) => _time = time;

    public event EventHandler? Changed;

    public void Report(string model, long bytes, long total)
    {
        var now = _time.GetUtcNow();
        var entry = _entries.GetOrAdd(model, _ => new Entry());
        entry.Bytes = bytes;
        entry.Total = total;
        if (bytes >= total || now - entry.Raised >= TimeSpan.FromSeconds(1))
        {
            entry.Raised = now;
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    public void Clear(string model)
    {
        if (_entries.TryRemove(model, out _))
        {
            Changed?.Invoke(this, EventArgs.Empty);
        }
    }

    public (long Bytes, long Total)? Of(string model) =>
        _entries.TryGetValue(model, out var e) ? (e.Bytes, e.Total) : null;

    private sealed class Entry
    {
        public long Bytes;
        public long Total;
        public DateTimeOffset Raised;
    }
}
