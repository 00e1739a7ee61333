using System.Collections.Concurrent;

namespace EdgeAgent.Agent.Capture;

/// <summary>Which models are in drift now: set by the drift monitor, read by capture on every request (a dictionary lookup).</summary>
public sealed class ModelDriftStates
{
    private readonly ConcurrentDictionary<string, bool> _inDrift = new(StringComparer.Ordinal);

    public bool InDrift(string model) => _inDrift.TryGetValue(model, out var drift) && drift;

    public void Set(string model, bool inDrift) => _inDrift[model] = inDrift;
}
