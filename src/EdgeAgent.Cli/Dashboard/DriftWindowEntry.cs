namespace EdgeAgent.Cli.Dashboard;

/// <summary>One feature or output of a drift record; <see cref="Counts"/> is the window's count per baseline bin when the agent sends it.</summary>
internal sealed record DriftWindowEntry(string Name, double? Psi, double? Js, double? Ks, string? State, IReadOnlyList<double>? Counts);
