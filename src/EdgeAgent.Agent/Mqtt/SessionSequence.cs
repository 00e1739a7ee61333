using System.Globalization;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Mqtt;

/// <summary>
/// A per-connection sequence carried in birth and will (like Sparkplug's bdSeq), persisted so it keeps growing across
/// restarts: a consumer ignores a status whose seq is lower than the last one it saw.
/// </summary>
public sealed class SessionSequence
{
    private readonly string _path;
    private readonly Lock _gate = new();

    public SessionSequence(IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _path = Path.Combine(options.Value.StateDirectory, "session.seq");
    }

    public long Next()
    {
        lock (_gate)
        {
            long current = 0;
            if (File.Exists(_path) && long.TryParse(File.ReadAllText(_path).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var stored))
            {
                current = stored;
            }

            var next = current + 1;
            StateFiles.WriteAtomically(_path, next.ToString(CultureInfo.InvariantCulture));
            return next;
        }
    }
}
