namespace EdgeAgent.Fleet.Rollouts;

public enum GateAction
{
    /// <summary>Nothing decided yet: devices of the wave are still deploying.</summary>
    Wait,

    /// <summary>Start the next wave.</summary>
    Advance,

    /// <summary>The last wave passed and no targeted device is still deploying.</summary>
    Complete,

    /// <summary>Stop and restore the devices (the reason says why).</summary>
    Abort,
}
