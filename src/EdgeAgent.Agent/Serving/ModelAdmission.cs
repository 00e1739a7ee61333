using System.Collections.Concurrent;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// A bounded queue per model: at most <c>Serving:MaxConcurrentRequests</c> requests of a model run at once, at most
/// <c>Serving:MaxQueuedRequests</c> wait for a turn, and none waits longer than <c>Serving:QueueTimeoutMilliseconds</c>.
/// Beyond that a request is shed (429 with Retry-After) instead of buffered without limit, and one busy model never
/// takes the threads of another.
/// </summary>
public sealed class ModelAdmission : IDisposable
{
    private readonly ConcurrentDictionary<string, Gate> _gates = new(StringComparer.Ordinal);
    private readonly ServingOptions _options;

    public ModelAdmission(IOptions<ServingOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
    }

    /// <summary>Requests shed since start-up (all models).</summary>
    public long Shed => Interlocked.Read(ref _shed);

    private long _shed;

    /// <summary>Waits for a turn; null when the model's queue is full or the wait timed out (answer 429).</summary>
    public async Task<IDisposable?> EnterAsync(string model, CancellationToken cancellationToken)
    {
        var gate = _gates.GetOrAdd(model, static (_, slots) => new Gate(slots), _options.MaxConcurrentRequests);
        if (gate.Slots.Wait(0, CancellationToken.None))
        {
            return new Lease(gate);
        }

        if (Interlocked.Increment(ref gate.Waiting) > _options.MaxQueuedRequests)
        {
            Interlocked.Decrement(ref gate.Waiting);
            Interlocked.Increment(ref _shed);
            return null;
        }

        try
        {
            if (await gate.Slots.WaitAsync(_options.QueueTimeoutMilliseconds, cancellationToken))
            {
                return new Lease(gate);
            }

            Interlocked.Increment(ref _shed);
            return null;
        }
        finally
        {
            Interlocked.Decrement(ref gate.Waiting);
        }
    }

    public void Dispose()
    {
        foreach (var gate in _gates.Values)
        {
            gate.Dispose();
        }
    }

    private sealed class Gate(int slots) : IDisposable
    {
        public readonly SemaphoreSlim Slots = new(slots, slots);
        public int Waiting;

        public void Dispose() => Slots.Dispose();
    }

    private sealed class Lease(Gate gate) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                gate.Slots.Release();
            }
        }
    }
}
