using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>A version a device accepted, with the SHA-256 of its signed manifest payload (so the same version cannot come back with other content).</summary>
public sealed record AcceptedVersion(
    [property: JsonPropertyName("version")] string Version,
    [property: JsonPropertyName("manifestSha256")] string ManifestSha256);
