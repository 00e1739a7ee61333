using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Desired;

public sealed record DesiredModel(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("version")] string Version);
