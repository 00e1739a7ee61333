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

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, CoreJson.Options.Info<DesiredState>());

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

    /// <summary>
    /// The desired state a device acts on: its groups' documents (earlier groups win over later ones) overlaid by its
    /// own document, model by model: the device entry wins.
    /// </summary>
    public static DesiredState Merge(DesiredState device, IEnumerable<DesiredState> groups)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(groups);
        var byName = new Dictionary<string, DesiredModel>(StringComparer.Ordinal);
        foreach (var model in device.Models)
        {
            byName[model.Name] = model;
        }

        foreach (var group in groups)
        {
            foreach (var model in group.Models)
            {
                byName.TryAdd(model.Name, model);
            }
        }

        return new DesiredState { Models = [.. byName.Values.OrderBy(m => m.Name, StringComparer.Ordinal)] };
    }

    private static bool TryReadOptions(JsonElement item, int i, out DateTimeOffset? activateAfter, out int? probationSeconds, out int? probationRequests, out string error)
    {
        activateAfter = null;
        probationSeconds = null;
        probationRequests = null;
        error = string.Empty;
        if (item.TryGetProperty("activateAfter", out var after) && after.ValueKind != JsonValueKind.Null)
        {
            var text = after.ValueKind == JsonValueKind.String ? after.GetString()! : string.Empty;
            if (text.Length < 19 || text[4] != '-' || text[7] != '-' || text[10] != 'T'
                || !DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var at))
            {
                error = $"models[{i}].activateAfter must be an ISO 8601 time such as 2026-11-27T02:00:00Z";
                return false;
            }

            activateAfter = at;
        }

        if (!TryReadCount(item, "probationSeconds", i, 7 * 24 * 3600, out probationSeconds, out error))
        {
            return false;
        }

        return TryReadCount(item, "probationRequests", i, 100_000_000, out probationRequests, out error);
    }

    private static bool TryReadCount(JsonElement item, string property, int i, int max, out int? value, out string error)
    {
        value = null;
        error = string.Empty;
        if (!item.TryGetProperty(property, out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.Number || !element.TryGetInt32(out var n) || n < 0 || n > max)
        {
            error = $"models[{i}].{property} must be a whole number from 0 to {max}";
            return false;
        }

        value = n;
        return true;
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

            if (!TryReadOptions(item, i, out var activateAfter, out var probationSeconds, out var probationRequests, out error))
            {
                return false;
            }

            list.Add(new DesiredModel(name, version) { ActivateAfter = activateAfter, ProbationSeconds = probationSeconds, ProbationRequests = probationRequests });
            i++;
        }

        state = new DesiredState { Models = list };
        error = string.Empty;
        return true;
    }
}
