using System.Text.Json;

namespace EdgeAgent.Core.Telemetry;

/// <summary>
/// Reads what the outbox publishes on <c>metrics</c>, <c>events</c> and <c>drift</c>: either one record (a JSON object with
/// <c>seq</c>) or a batch <c>{"records":[record, ...]}</c> (docs/mqtt-api.md#outbox-delivery).
/// </summary>
public static class OutboxPayload
{
    /// <summary>The records of a payload: the batch's <c>records</c>, or the payload itself when it is a single record.</summary>
    public static IReadOnlyList<JsonElement> Records(JsonElement payload)
    {
        if (payload.ValueKind == JsonValueKind.Object && payload.TryGetProperty("records", out var records) && records.ValueKind == JsonValueKind.Array)
        {
            var list = new List<JsonElement>(records.GetArrayLength());
            foreach (var record in records.EnumerateArray())
            {
                list.Add(record);
            }

            return list;
        }

        return [payload];
    }

    /// <summary>The <c>seq</c> of one record.</summary>
    public static long Seq(JsonElement record) => record.GetProperty("seq").GetInt64();
}
