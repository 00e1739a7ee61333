using System.Globalization;
using System.Text.Json;

namespace EdgeAgent.Cli.Commands;

/// <summary>The agent's <c>outbox</c> object (health, <c>/v1/status</c>, <c>/v1/metrics</c>) as text.</summary>
internal static class OutboxText
{
    private static readonly string[] Classes = ["alert", "event", "drift", "metrics"];

    /// <summary>Drops in total and per class (<c>alert 0, event 0, drift 0, metrics 12</c>).</summary>
    public static (long Total, string Text) Dropped(JsonElement outbox)
    {
        var dropped = outbox.GetProperty("dropped");
        if (dropped.ValueKind == JsonValueKind.Number)
        {
            // An agent from before the per-class counters.
            return (dropped.GetInt64(), dropped.GetInt64().ToString(CultureInfo.InvariantCulture));
        }

        long total = 0;
        var parts = new List<string>();
        foreach (var name in Classes)
        {
            var n = dropped.TryGetProperty(name, out var v) ? v.GetInt64() : 0;
            total += n;
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{name} {n}"));
        }

        return (total, string.Join(", ", parts));
    }

    public static string Line(JsonElement outbox)
    {
        var (total, text) = Dropped(outbox);
        var bytes = outbox.TryGetProperty("bytes", out var b) && outbox.TryGetProperty("maxBytes", out var max)
            ? string.Create(CultureInfo.InvariantCulture, $" ({b.GetInt64() / 1024.0:0.#} of {max.GetInt64() / 1048576.0:0.#} MiB)")
            : string.Empty;
        var seq = outbox.TryGetProperty("lastSeq", out var s) ? $", last seq {s}" : string.Empty;
        return $"outbox: {outbox.GetProperty("depth")} waiting{bytes}, {outbox.GetProperty("delivered")} delivered, {total} dropped{(total > 0 ? $" ({text})" : string.Empty)}{seq}";
    }
}
