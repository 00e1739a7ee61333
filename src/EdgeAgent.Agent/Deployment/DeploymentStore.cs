using System.Text.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// The persisted record of each model (<c>deployments.json</c> in the state directory). Every state change is written
/// before the side effect it announces, so a restart knows where each deployment stopped.
/// </summary>
public sealed class DeploymentStore
{
    private readonly string _path;
    private readonly Lock _gate = new();
    private Dictionary<string, ModelRecord> _records;

    public DeploymentStore(IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.Combine(options.Value.StateDirectory, "deployments.json");
        _records = Load(_path);
    }

    public event EventHandler<ModelRecord>? Changed;

    public IReadOnlyDictionary<string, ModelRecord> Snapshot()
    {
        lock (_gate)
        {
            return new Dictionary<string, ModelRecord>(_records, StringComparer.Ordinal);
        }
    }

    public ModelRecord? Get(string name)
    {
        lock (_gate)
        {
            return _records.GetValueOrDefault(name);
        }
    }

    public ModelRecord Update(string name, Func<ModelRecord?, ModelRecord> change)
    {
        ArgumentNullException.ThrowIfNull(change);
        ModelRecord updated;
        lock (_gate)
        {
            updated = change(_records.GetValueOrDefault(name));
            var next = new Dictionary<string, ModelRecord>(_records, StringComparer.Ordinal) { [name] = updated };
            StateFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(next.Values.OrderBy(r => r.Name, StringComparer.Ordinal), CoreJson.Indented));
            _records = next;
        }

        Changed?.Invoke(this, updated);
        return updated;
    }

    public void Remove(string name)
    {
        ModelRecord? removed;
        lock (_gate)
        {
            var next = new Dictionary<string, ModelRecord>(_records, StringComparer.Ordinal);
            if (!next.Remove(name, out removed))
            {
                return;
            }

            StateFiles.WriteAtomically(_path, JsonSerializer.SerializeToUtf8Bytes(next.Values.OrderBy(r => r.Name, StringComparer.Ordinal), CoreJson.Indented));
            _records = next;
        }

        Changed?.Invoke(this, removed with { State = Core.Deployment.DeploymentStates.Removed, ActiveVersion = null });
    }

    private static Dictionary<string, ModelRecord> Load(string path)
    {
        if (!File.Exists(path))
        {
            return new Dictionary<string, ModelRecord>(StringComparer.Ordinal);
        }

        try
        {
            var list = JsonSerializer.Deserialize<List<ModelRecord>>(File.ReadAllBytes(path), CoreJson.Options) ?? [];
            var records = new Dictionary<string, ModelRecord>(StringComparer.Ordinal);
            foreach (var record in list)
            {
                if (record?.Name is null || !records.TryAdd(record.Name, record))
                {
                    throw new JsonException($"model '{record?.Name}' is missing a name or is listed twice");
                }
            }

            return records;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"state file {path} is corrupt ({ex.Message}); move it away to start clean", ex);
        }
    }
}
