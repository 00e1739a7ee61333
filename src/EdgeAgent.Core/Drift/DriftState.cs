namespace EdgeAgent.Core.Drift;

/// <summary>Drift state of a distribution, a model or a window (serialised in camelCase: <c>ok</c>, <c>drift</c>, <c>insufficient</c>).</summary>
public enum DriftState
{
    Ok,
    Drift,

    /// <summary>A window with fewer values than the minimum: its statistics are reported but change no state.</summary>
    Insufficient,
}
