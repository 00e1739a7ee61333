namespace EdgeAgent.Agent.Hardware;

/// <summary>One pin as <c>GET /v1/gpio</c> shows it: mode (Output/Input), value (High/Low, null when unknown), owner.</summary>
public sealed record GpioPinInfo(int Pin, string Mode, string? Value, string Owner, string? Error);
