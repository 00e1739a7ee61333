using System.Text.Json;

namespace EdgeAgent.Agent.Commands;

/// <summary>A remote command as received: its verb and its payload (JSON arguments; empty when the sender sent none).</summary>
public sealed record RemoteCommandRequest(string Verb, ReadOnlyMemory<byte> Payload)
{
    /// <summary>
    /// The payload as a JSON object: an empty object for an empty payload. A payload that is not a JSON object is an
    /// <see cref="ArgumentException"/>, answered as <c>ok: false</c>.
    /// </summary>
    public JsonElement Arguments()
    {
        if (Payload.IsEmpty)
        {
            return JsonDocument.Parse("{}").RootElement.Clone();
        }

        try
        {
            using var doc = JsonDocument.Parse(Payload);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                ? doc.RootElement.Clone()
                : throw new ArgumentException("the command payload must be a JSON object (or empty)");
        }
        catch (JsonException ex)
        {
            throw new ArgumentException($"the command payload is not valid JSON ({ex.Message})", ex);
        }
    }
}
