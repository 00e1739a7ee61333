using System.Diagnostics;

namespace EdgeAgent.Agent;

/// <summary>
/// Test-only crash points: with <c>EDGEAGENT_FAULT_KILL_AT=POINT</c> set, the agent kills itself (SIGKILL, like
/// <c>kill -9</c> or a power cut) when it reaches that point, e.g. <c>state:Activating</c>, <c>chunk:3</c> or
/// <c>chunk-partial:1</c> (half the chunk written in place first). The crash-recovery tests use it to stop the agent at
/// exact points of a deployment. Unset (always, in production), every call is a comparison with null.
/// <para>
/// Test-only hang points: with <c>EDGEAGENT_FAULT_HANG_AT=pass:N</c> the reconcile loop blocks (without beating its
/// watchdog) at the start of its Nth pass until the agent stops, like a step that never returns. The systemd watchdog
/// test uses it to see the <c>WATCHDOG=1</c> pings stop.
/// </para>
/// </summary>
internal static class FaultInjection
{
    public const string Variable = "EDGEAGENT_FAULT_KILL_AT";

    public const string HangVariable = "EDGEAGENT_FAULT_HANG_AT";

    private static readonly string? Armed = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } point ? point : null;

    private static readonly string? HangArmed = Environment.GetEnvironmentVariable(HangVariable) is { Length: > 0 } point ? point : null;

    public static bool IsHangArmed(string point) => HangArmed is not null && string.Equals(HangArmed, point, StringComparison.Ordinal);

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
