namespace EdgeAgent.Core.Drift;

/// <summary>
/// The outcome of one window for one model. <see cref="State"/> is the window's state: <see cref="DriftState.Insufficient"/>
/// when no entry had enough values, else the model's state after it (drift when any entry is in drift).
/// </summary>
/// <param name="Count">Values of the fullest entry in the window, NaN included: the samples, when a feature measures one value per sample.</param>
public sealed record DriftWindowReport(
    DriftState State,
    DriftState PreviousState,
    long Count,
    IReadOnlyList<DriftEntryReport> Features,
    IReadOnlyList<DriftEntryReport> Outputs)
{
    /// <summary>True when the model's state changed (ok → drift raised, drift → ok cleared): the moment for an alert.</summary>
    public bool Changed => State != DriftState.Insufficient && State != PreviousState;
}
