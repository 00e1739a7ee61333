namespace EdgeAgent.Agent.Deployment;

/// <summary>The reconcile loop's wake signal (desired state arrived, a retry is due).</summary>
public sealed class ReconcileSignal : WakeSignal;
