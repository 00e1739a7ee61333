using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
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
            StateFiles.WriteJson<IEnumerable<ModelRecord>>(_path, next.Values.OrderBy(r => r.Name, StringComparer.Ordinal));
            _records = next;
        }

        FaultInjection.Hit("state:" + updated.State);
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

            StateFiles.WriteJson<IEnumerable<ModelRecord>>(_path, next.Values.OrderBy(r => r.Name, StringComparer.Ordinal));
            _records = next;
        }

        Changed?.Invoke(this, removed with { State = Core.Deployment.DeploymentStates.Removed, ActiveVersion = null });
    }

    private static Dictionary<string, ModelRecord> Load(string path)
    {
        const string Advice = "move it away to start clean";
        var records = new Dictionary<string, ModelRecord>(StringComparer.Ordinal);
        foreach (var record in StateFiles.ReadJson<List<ModelRecord>>(path, [], Advice))
        {
            if (record?.Name is null || !records.TryAdd(record.Name, record))
            {
                throw new InvalidDataException($"state file {path} is corrupt (model '{record?.Name}' is missing a name or is listed twice); {Advice}");
            }
        }

        return records;
    }
}
