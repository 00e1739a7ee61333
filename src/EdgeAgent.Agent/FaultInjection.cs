using System.Diagnostics;

namespace EdgeAgent.Agent;

/// <summary>
/// Test-only crash points: with <c>EDGEAGENT_FAULT_KILL_AT=POINT</c> set, the agent kills itself (SIGKILL, like
/// <c>kill -9</c> or a power cut) when it reaches that point, e.g. <c>state:Activating</c>, <c>chunk:3</c> or
/// <c>chunk-partial:1</c> (half the chunk written in place first). The crash-recovery tests use it to stop the agent at
/// exact points of a deployment. Unset (always, in production), every call is a comparison with null.
/// </summary>
internal static class FaultInjection
{
    public const string Variable = "EDGEAGENT_FAULT_KILL_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } point ? point : null;

    public static bool IsArmed(string point) => Armed is not null && string.Equals(Armed, point, StringComparison.Ordinal);

    public static void Hit(string point)
    {
        if (IsArmed(point))
        {
            Kill();
        }
    }

    private static void Kill()
    {
        using var self = Process.GetCurrentProcess();
        self.Kill();
        Thread.Sleep(Timeout.Infinite);
    }
}
