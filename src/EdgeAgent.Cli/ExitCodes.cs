namespace EdgeAgent.Cli;

/// <summary>edgectl exit codes (docs/edgectl.md).</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int Error = 1;
    public const int Usage = 2;
    public const int Rejected = 3;
    public const int AgentUnreachable = 4;
    public const int DemoFailed = 5;
    public const int RolloutAborted = 6;
    public const int DeviceUnreachable = 7;

    /// <summary><c>edgectl drift compare</c>: a feature or output is in drift against the bundle's baseline.</summary>
    public const int DriftDetected = 8;

    /// <summary><c>edgectl logs</c>: no journalctl on this device (not a systemd system).</summary>
    public const int NoJournal = 9;
}
