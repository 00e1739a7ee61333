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
}
