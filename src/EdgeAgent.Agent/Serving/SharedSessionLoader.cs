using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// An <see cref="IModelLoader"/> for many agents in one process: models with the same file content (the manifest's
/// sha256, which the installer has checked against the file before any load) and the same session options share one
/// ONNX Runtime session. Each agent still gets its own <see cref="OnnxModel"/> (run options, buffers, leases); the
/// session is disposed when the last of them is. The first agent to load a file does the real load, so a file ONNX
/// Runtime refuses still fails that agent's deployment.
/// </summary>
public sealed class SharedSessionLoader : IModelLoader
{
    private readonly Dictionary<string, Entry> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Sessions open now.</summary>
    public int OpenSessions
    {
        get
        {
            lock (_lock)
            {
                return _sessions.Count;
            }
        }
    }

    /// <summary>Real ONNX Runtime loads done so far (the rest of the loads were shared).</summary>
    public int SessionsCreated { get; private set; }

    public OnnxModel Load(BundleManifest manifest, string modelPath, ServingOptions serving)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(serving);
        var sha = manifest.ModelFile?.Sha256;
        if (sha is null)
        {
            // Nothing trustworthy to key on: a session of its own.
            return OnnxModel.Load(manifest.Name, manifest.Version, modelPath, serving);
        }

        var key = $"{sha}|{serving.GraphOptimizationLevel}|{serving.IntraOpThreads}|{serving.InterOpThreads}|{string.Join(',', serving.ExecutionProviders)}";
        Entry entry;
        lock (_lock)
        {
            if (!_sessions.TryGetValue(key, out entry!))
            {
                // Loading under the lock: a second agent asking for the same file waits for this load instead of doing its own.
                var session = OnnxModel.CreateSession(modelPath, serving, out var provider, out var fallback);
                entry = new Entry(this, key, session, provider, fallback);
                _sessions.Add(key, entry);
                SessionsCreated++;
            }

            entry.References++;
        }

        return OnnxModel.Shared(manifest.Name, manifest.Version, entry.Session, new Lease(entry), entry.Provider, entry.Fallback, serving);
    }

    private void Release(Entry entry)
    {
        lock (_lock)
        {
            if (--entry.References > 0)
            {
                return;
            }

            _sessions.Remove(entry.Key);
        }

        entry.Session.Dispose();
    }

    private sealed class Entry(SharedSessionLoader owner, string key, InferenceSession session, string provider, string? fallback)
    {
        public SharedSessionLoader Owner { get; } = owner;

        public string Key { get; } = key;

        public InferenceSession Session { get; } = session;

        public string Provider { get; } = provider;

        public string? Fallback { get; } = fallback;

        public int References { get; set; }
    }

    private sealed class Lease(Entry entry) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                entry.Owner.Release(entry);
            }
        }
    }
}
