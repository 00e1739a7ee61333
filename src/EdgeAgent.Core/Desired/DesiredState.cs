using System.Text.Json;
using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Desired;

/// <summary>What the fleet wants on a device: <c>{"models":[{"name":"vibration","version":"1.0.0"}]}</c>.</summary>
public sealed record DesiredState
{
    public const int MaxBytes = 64 * 1024;
    public const int MaxModels = 32;

    public static readonly DesiredState Empty = new() { Models = [] };

    [JsonPropertyName("models")] public required IReadOnlyList<DesiredModel> Models { get; init; }

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CoreJson.Options);

    /// <summary>Parses and validates a desired-state document; the error names what is wrong.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out DesiredState? state, out string error)
    {
        state = null;
        if (json.Length > MaxBytes)
        {
            error = $"desired state is {json.Length} bytes, more than {MaxBytes}";
            return false;
        }

        if (json.IsEmpty)
        {
            // An empty retained message clears the topic: nothing is desired.
            state = Empty;
            error = string.Empty;
            return true;
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException ex)
        {
            error = $"desired state is not valid JSON ({ex.Message})";
            return false;
        }

        using (doc)
        {
            try
            {
                return TryRead(doc.RootElement, out state, out error);
            }
            catch (InvalidOperationException)
            {
                // E.g. a string that is not valid UTF-8: JsonDocument only finds out when it is read.
                state = null;
                error = "desired state is not valid UTF-8 JSON";
                return false;
            }
        }
    }

    private static bool TryRead(JsonElement root, out DesiredState? state, out string error)
    {
        state = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = "desired state must be a JSON object";
            return false;
        }

        if (!root.TryGetProperty("models", out var models) || models.ValueKind != JsonValueKind.Array)
        {
            error = "desired state needs a \"models\" array";
            return false;
        }

        if (models.GetArrayLength() > MaxModels)
        {
            error = $"desired state lists more than {MaxModels} models";
            return false;
        }

        var list = new List<DesiredModel>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var i = 0;
        foreach (var item in models.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object
                || !item.TryGetProperty("name", out var n) || n.ValueKind != JsonValueKind.String
                || !item.TryGetProperty("version", out var v) || v.ValueKind != JsonValueKind.String)
            {
                error = $"models[{i}] needs string \"name\" and \"version\"";
                return false;
            }

            var name = n.GetString()!;
            var version = v.GetString()!;
            if (!Bundles.ManifestVerifier.IsValidModelName(name))
            {
                error = $"models[{i}].name '{name}' is not valid (lowercase letters, digits, '.', '_', '-'; up to 64)";
                return false;
            }

            if (!SemVersion.TryParse(version, out var semver))
            {
                error = $"models[{i}].version '{version}' is not a semantic version";
                return false;
            }

            if (semver.HasBuildMetadata)
            {
                error = $"models[{i}].version '{version}' carries build metadata ('+'), which cannot appear in an MQTT topic";
                return false;
            }

            if (!names.Add(name))
            {
                error = $"model '{name}' is listed twice";
                return false;
            }

            list.Add(new DesiredModel(name, version));
            i++;
        }

        state = new DesiredState { Models = list };
        error = string.Empty;
        return true;
    }
}
