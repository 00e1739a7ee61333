using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Desired;

/// <summary>
/// One desired model version. The optional fields let a rollout separate download from activation
/// (<see cref="ActivateAfter"/>) and set how long the new version is watched before it counts as Active.
/// </summary>
public sealed record DesiredModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version)
{
    /// <summary>Fetch and stage now, but do not activate before this instant.</summary>
    [JsonPropertyName("activateAfter")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DateTimeOffset? ActivateAfter { get; init; }

    /// <summary>Probation length for this version; overrides <c>Agent:ProbationSeconds</c>.</summary>
    [JsonPropertyName("probationSeconds")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ProbationSeconds { get; init; }

    /// <summary>Requests after which probation may end early; overrides <c>Agent:ProbationRequests</c>.</summary>
    [JsonPropertyName("probationRequests")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public int? ProbationRequests { get; init; }
}
