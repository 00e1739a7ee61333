using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// The highest version of each model this device activated, with its manifest digest (<c>accepted.json</c> in the state
/// directory). Kept across restarts and unloads: it is what makes a downgrade need a signed <c>rollbackOf</c>.
/// </summary>
public sealed class AcceptedVersions
{
    private readonly string _path;
    private readonly Lock _gate = new();
    private Dictionary<string, AcceptedVersion> _highest;

    public AcceptedVersions(IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.Combine(options.Value.StateDirectory, "accepted.json");
        _highest = Load(_path);
    }

    public AcceptedVersion? Highest(string model)
    {
        lock (_gate)
        {
            return _highest.GetValueOrDefault(model);
        }
    }

    /// <summary>Records an activated version if it is higher than what was accepted before.</summary>
    public void Record(string model, string version, string manifestSha256)
    {
        lock (_gate)
        {
            if (_highest.TryGetValue(model, out var current) && SemVersion.Parse(version) <= SemVersion.Parse(current.Version))
            {
                return;
            }

            var next = new Dictionary<string, AcceptedVersion>(_highest, StringComparer.Ordinal) { [model] = new AcceptedVersion(version, manifestSha256) };
            StateFiles.WriteJson(_path, next);
            _highest = next;
        }
    }

    // Refusing to start on a corrupt file is safer than forgetting what was accepted (that would reopen downgrades).
    private static Dictionary<string, AcceptedVersion> Load(string path) => new(
        StateFiles.ReadJson<Dictionary<string, AcceptedVersion>>(path, [], "restore it from a backup, or remove it to accept any version again"),
        StringComparer.Ordinal);
}
