using System.Collections.Concurrent;
using System.Diagnostics;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>
/// Collects what a broker holds on wildcard filters: the retained messages arrive right after subscribing, and the
/// snapshot ends once no new message came for <c>quiet</c> (or at <c>max</c>). MQTT has no end-of-retained marker.
/// </summary>
public static class RetainedSnapshot
{
    public static readonly TimeSpan DefaultQuiet = TimeSpan.FromMilliseconds(500);

    /// <summary>The latest payload per topic and when it arrived (by <paramref name="time"/>); empty payloads are left out.</summary>
    public static async Task<IReadOnlyDictionary<string, (byte[] Payload, DateTimeOffset ReceivedAt)>> CollectAsync(FleetConnection connection, IReadOnlyList<string> filters, TimeSpan quiet, TimeSpan max, TimeProvider time, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(time);
        var seen = new ConcurrentDictionary<string, (byte[] Payload, DateTimeOffset ReceivedAt)>(StringComparer.Ordinal);
        var last = Stopwatch.StartNew();
        void OnMessage(string topic, byte[] payload)
        {
            if (!filters.Any(f => Matches(f, topic)))
            {
                return;
            }

            if (payload.Length == 0)
            {
                seen.TryRemove(topic, out _);
            }
            else
            {
                seen[topic] = (payload, time.GetUtcNow());
            }

            last.Restart();
        }

        connection.MessageReceived += OnMessage;
        try
        {
            foreach (var filter in filters)
            {
                await connection.WatchAsync(filter, cancellationToken);
            }

            var total = Stopwatch.StartNew();
            last.Restart();
            while (total.Elapsed < max && last.Elapsed < quiet)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
            }
        }
        finally
        {
            connection.MessageReceived -= OnMessage;
        }

        return new Dictionary<string, (byte[] Payload, DateTimeOffset ReceivedAt)>(seen, StringComparer.Ordinal);
    }

    /// <summary>MQTT topic filter matching (<c>+</c> one level, <c>#</c> the rest).</summary>
    public static bool Matches(string filter, string topic)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(topic);
        var f = filter.Split('/');
        var t = topic.Split('/');
        for (var i = 0; i < f.Length; i++)
        {
            if (f[i] == "#")
            {
                return true;
            }

            if (i >= t.Length || (f[i] != "+" && f[i] != t[i]))
            {
                return false;
            }
        }

        return f.Length == t.Length;
    }

    /// <summary>The device id in <c>{p}/devices/{id}/{leaf}</c>; null for other topics.</summary>
    public static string? DeviceOf(string prefix, string topic, string leaf)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(topic);
        var start = $"{prefix}/devices/";
        var end = $"/{leaf}";
        if (!topic.StartsWith(start, StringComparison.Ordinal) || !topic.EndsWith(end, StringComparison.Ordinal) || topic.Length <= start.Length + end.Length)
        {
            return null;
        }

        var id = topic[start.Length..^end.Length];
        return id.Contains('/', StringComparison.Ordinal) ? null : id;
    }
}
