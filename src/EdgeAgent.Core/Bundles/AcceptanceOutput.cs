using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// An expected output of an acceptance vector: the output's name, its expected values (<c>data</c>, flat or nested,
/// row-major) and, optionally, the datatype and shape it must have.
/// </summary>
public sealed record AcceptanceOutput(string Name, string? Datatype, IReadOnlyList<long>? Shape, JsonElement Data);
