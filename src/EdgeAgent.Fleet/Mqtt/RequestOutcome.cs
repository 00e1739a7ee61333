namespace EdgeAgent.Fleet.Mqtt;

/// <summary>What came of a <see cref="FleetConnection.RequestAsync"/>: the answer (null when none came in time), or that nobody subscribes to the request's topic.</summary>
public sealed record RequestOutcome(byte[]? Answer, bool NoSubscribers);
