using System.Text.Json;
using EdgeAgent.Agent.Capture;
using EdgeAgent.Agent.Json;

namespace EdgeAgent.Agent.Commands;

/// <summary>
/// <c>capture-export</c>: hands captured samples to the fleet over MQTT (a retraining job collects them this way).
/// Arguments (all optional): <c>{"model":"vibration","after":0,"limit":500,"maxBytes":1048576,"purgeUpTo":0}</c>.
/// Answers <c>{"samples":[{id, model, version, at, reason, request:{inputs}, outputs, redacted}], "next":ID, "more":bool,
/// "count":N, "dropped":N, "purged":N}</c>: samples with ids above <c>after</c>, oldest first, at most <c>limit</c> and
/// about <c>maxBytes</c> of sample data; page on with <c>after = next</c> while <c>more</c>. <c>purgeUpTo</c> first
/// deletes the samples up to that id (those a previous page delivered), so a collector acknowledges as it goes.
/// </summary>
public sealed class CaptureExportCommand(CaptureStore store) : IRemoteCommand
{
    public const string Name = "capture-export";

    public string Verb => Name;

    public Task<RemoteCommandResult> ExecuteAsync(RemoteCommandRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var arguments = request.Arguments();
        string? model = arguments.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString() : null;
        var after = Number(arguments, "after", 0, 0, long.MaxValue);
        var limit = (int)Number(arguments, "limit", 500, 1, 10_000);
        var maxBytes = Number(arguments, "maxBytes", 1024 * 1024, 1024, 64L * 1024 * 1024);
        var purgeUpTo = Number(arguments, "purgeUpTo", 0, 0, long.MaxValue);
        var purged = purgeUpTo > 0 ? store.Delete(model, purgeUpTo) : 0;

        var page = store.Read(model, after, limit);
        var samples = new List<CaptureExportSample>();
        long bytes = 0;
        var next = after;
        foreach (var sample in page)
        {
            if (samples.Count > 0 && bytes + sample.Json.Length > maxBytes)
            {
                break;
            }

            using var data = JsonDocument.Parse(sample.Json);
            var root = data.RootElement;
            samples.Add(new CaptureExportSample(
                sample.Id,
                sample.Model,
                sample.Version,
                sample.At,
                sample.Reason,
                new CaptureExportRequest(root.GetProperty("inputs").Clone()),
                root.GetProperty("outputs").Clone(),
                root.TryGetProperty("redacted", out var r) ? r.Clone() : null));
            bytes += sample.Json.Length;
            next = sample.Id;
        }

        var more = samples.Count < page.Count || page.Count == limit;
        return Task.FromResult(RemoteCommandResult.Ok(new CaptureExportAnswer(samples, next, more, store.Count, store.Dropped, purged)));
    }

    private static long Number(JsonElement arguments, string name, long fallback, long min, long max)
    {
        if (!arguments.TryGetProperty(name, out var value))
        {
            return fallback;
        }

        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"'{name}' must be a whole number from {min} to {max}");
    }
}
