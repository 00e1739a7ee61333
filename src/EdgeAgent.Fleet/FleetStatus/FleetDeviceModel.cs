namespace EdgeAgent.Fleet.FleetStatus;

/// <summary>One model of a device in the fleet view, from its <c>reported</c> document.</summary>
public sealed record FleetDeviceModel(string Name, string? ActiveVersion, string? Version, string? State, string? Reason);
