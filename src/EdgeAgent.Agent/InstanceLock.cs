namespace EdgeAgent.Agent;

/// <summary>
/// An exclusive lock on <c>agent.lock</c> in the state directory, held for the agent's lifetime: a second agent on the
/// same state (and so the same socket, outbox and client id) refuses to start instead of fighting the first.
/// </summary>
public sealed class InstanceLock : IDisposable
{
    private readonly FileStream _lock;

    public InstanceLock(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "agent.lock");
        try
        {
            // FileShare.None takes an advisory flock on Unix.
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new IOException($"another edge-agent is already running with state directory {directory} (lock {path} is held)", ex);
        }
    }

    public void Dispose() => _lock.Dispose();
}
