using System.Collections.Concurrent;

namespace EdgeAgent.Agent.Serving;

/// <summary>The serving slots: one active <see cref="OnnxModel"/> per model name, swapped atomically.</summary>
public sealed class ModelCatalog : IDisposable
{
    private readonly ConcurrentDictionary<string, OnnxModel> _active = new(StringComparer.Ordinal);

    public IReadOnlyCollection<OnnxModel> Active => [.. _active.Values];

    /// <summary>A version went into its slot (raised after the swap, on the activating thread).</summary>
    public event Action<OnnxModel>? Activated;

    /// <summary>A model left its slot and serves no more.</summary>
    public event Action<string>? Unloaded;

    public bool Contains(string name) => _active.ContainsKey(name);

    /// <summary>Leases the active session of <paramref name="name"/>; false when none serves. Release the lease when done.</summary>
    public bool TryLease(string name, out OnnxModel? model)
    {
        while (_active.TryGetValue(name, out var current))
        {
            if (current.TryAcquire())
            {
                model = current;
                return true;
            }

            // Retired between the read and the lease: a newer session is already in the slot.
        }

        model = null;
        return false;
    }

    public bool TryGet(string name, out OnnxModel? model) => _active.TryGetValue(name, out model);

    /// <summary>Puts <paramref name="model"/> in its slot; the previous session finishes its in-flight requests, then closes.</summary>
    public void Activate(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        OnnxModel? previous = null;
        _active.AddOrUpdate(model.Name, model, (_, old) =>
        {
            previous = old;
            return model;
        });
        if (previous is not null && !ReferenceEquals(previous, model))
        {
            previous.Retire();
        }

        Activated?.Invoke(model);
    }

    public void Unload(string name)
    {
        if (_active.TryRemove(name, out var old))
        {
            old.Retire();
            Unloaded?.Invoke(name);
        }
    }

    public void Dispose()
    {
        foreach (var name in _active.Keys)
        {
            Unload(name);
        }
    }
}
