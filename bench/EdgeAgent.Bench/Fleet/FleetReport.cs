using System.Globalization;
using System.Text;
using System.Text.Json;

namespace EdgeAgent.Bench.Fleet;

/// <summary>The fleet simulation's text summary, JSON and SVG progress plots.</summary>
public static class FleetReport
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static void Write(FleetResult result, string? jsonPath, Action<string> say)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(say);
        say(Summary(result));
        var directory = jsonPath is null ? Path.GetTempPath() : Path.GetDirectoryName(Path.GetFullPath(jsonPath))!;
        var stem = jsonPath is null ? $"edgeagent-fleet-{Environment.ProcessId}" : Path.GetFileNameWithoutExtension(jsonPath);
        if (jsonPath is not null)
        {
            File.WriteAllText(jsonPath, JsonSerializer.Serialize(result, Json));
            say($"wrote {jsonPath}");
        }

        foreach (var scenario in result.Scenarios)
        {
            var svg = Path.Combine(directory, $"{stem}-{scenario.Name}.svg");
            File.WriteAllText(svg, Svg(result, scenario));
            say($"wrote {svg}");
        }
    }

    public static string Summary(FleetResult r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = new StringBuilder();
        var c = CultureInfo.InvariantCulture;
        s.AppendLine();
        s.AppendLine(c, $"fleet simulation: {r.Devices} devices ({r.FailingDevices} of another device type, seed {r.Seed}), waves {r.Waves}, success threshold {r.SuccessThreshold}, abort threshold {r.AbortThreshold}, thread-pool spin limit {r.ThreadPoolSpinLimit}");
        s.AppendLine(c, $"  machine: {r.Machine}; load average {r.LoadAverageStart} at start, {r.LoadAverageEnd} at end");
        s.AppendLine(c, $"  agents started in {r.StartSeconds:0.0} s; setup (1.0.0 Active everywhere, untimed) {r.SetupSeconds:0.0} s; ORT sessions created {r.OrtSessionsCreated}; idle CPU {r.IdleCpuPercentOfOneCore:0}% of one core; process peak RSS {FleetSimulation.MiB(r.ProcessPeakRssBytes)}");
        s.AppendLine(c, $"  agent log: {r.AgentWarnings} warnings, {r.AgentErrors} errors");
        foreach (var line in r.LastAgentErrors.TakeLast(5))
        {
            s.AppendLine(c, $"    {line}");
        }

        foreach (var x in r.Scenarios)
        {
            s.AppendLine(c, $"  [{x.Name}] {x.Version}: bundle {x.BundleBytes:N0} B (model {x.ModelBytes:N0} B), published in {x.PublishSeconds:0.00} s");
            s.AppendLine(c, $"    {x.State}{(x.Reason is null ? "" : $" ({x.Reason})")} in wave {x.FinalWave}; driver done after {x.DriverSeconds:0.0} s; all Active after {(x.AllActiveSeconds is { } a ? $"{a:0.0} s" : "n/a")}; {x.Active} Active, {x.Failed} failed, {x.Targeted} targeted");
            if (x.FailureReasons.Count > 0)
            {
                s.AppendLine(c, $"    failures: {string.Join("; ", x.FailureReasons)}");
            }

            if (x.Restored is { } restored)
            {
                s.AppendLine(c, $"    restored {restored} device(s); back on their previous version {(x.RollbackSeconds is { } rb ? $"{rb:0.0} s" : "n/a")} after the abort decision");
            }

            s.AppendLine(c, $"    per device (targeted -> Active): p50 {x.P50DeviceSeconds:0.00} s, p95 {x.P95DeviceSeconds:0.00} s");
            foreach (var w in x.WaveTimes)
            {
                s.AppendLine(c, $"    wave {w.Wave}: {w.Devices} devices, started at {w.StartedSeconds:0.0} s, last Active at {(w.LastActiveSeconds is { } l ? $"{l:0.0} s" : "n/a")}");
            }

            s.AppendLine(c, $"    broker: CPU {x.BrokerCpuSeconds:0.0} s ({x.BrokerCpuPercentOfOneCore:0}% of one core over the rollout), peak RSS {FleetSimulation.MiB(x.BrokerPeakRssBytes)}; agents peak RSS {FleetSimulation.MiB(x.ProcessPeakRssBytes)}; reconnects {x.Reconnects}");
            s.AppendLine(c, $"    wire (ss, MQTT bytes received per updated device, {x.WireDevicesMeasured} measured): min {x.WireReceivedPerDevice.Min:N0}, median {x.WireReceivedPerDevice.Median:N0}, max {x.WireReceivedPerDevice.Max:N0} B = {x.WireRatioMedian:0.0000}x / {x.WireRatioMax:0.0000}x the bundle file (median / max), {x.WireRatioToModelMax:0.0000}x the model file (max); sent median {x.WireSentPerDevice.Median:N0} B; chunk payload (lower bound) median {x.ChunkPayloadPerDevice.Median:N0} B");
        }

        return s.ToString();
    }

    /// <summary>Devices Active on the scenario's version against seconds since the rollout started, with wave starts marked.</summary>
    public static string Svg(FleetResult result, ScenarioResult scenario)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(scenario);
        const double W = 720, H = 400, L = 60, R = 20, T = 40, B = 50;
        var c = CultureInfo.InvariantCulture;
        var tMax = Math.Max(1, scenario.Progress.Count > 0 ? scenario.Progress[^1][0] : 1);
        tMax = NiceCeiling(tMax);
        var n = Math.Max(1, result.Devices);
        double X(double t) => L + (t / tMax * (W - L - R));
        double Y(double v) => H - B - (v / n * (H - T - B));
        var s = new StringBuilder();
        s.AppendLine(c, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">""");
        s.AppendLine("""<rect width="100%" height="100%" fill="white"/>""");
        s.AppendLine(c, $"""<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">{Escape($"{scenario.Name}: {scenario.Version} to {result.Devices} devices — {scenario.State}{(scenario.AllActiveSeconds is { } a ? $", all Active at {a:0.0} s" : "")}")}</text>""");
        // Axes and grid.
        for (var i = 0; i <= 5; i++)
        {
            var v = n * i / 5.0;
            s.AppendLine(c, $"""<line x1="{L}" y1="{Y(v):0.0}" x2="{W - R}" y2="{Y(v):0.0}" stroke="#ddd"/><text x="{L - 6}" y="{Y(v) + 4:0.0}" text-anchor="end">{v:0}</text>""");
            var t = tMax * i / 5.0;
            s.AppendLine(c, $"""<line x1="{X(t):0.0}" y1="{T}" x2="{X(t):0.0}" y2="{H - B}" stroke="#eee"/><text x="{X(t):0.0}" y="{H - B + 16}" text-anchor="middle">{t:0.#}</text>""");
        }

        s.AppendLine(c, $"""<line x1="{L}" y1="{H - B}" x2="{W - R}" y2="{H - B}" stroke="black"/><line x1="{L}" y1="{T}" x2="{L}" y2="{H - B}" stroke="black"/>""");
        s.AppendLine(c, $"""<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">seconds since the rollout started</text>""");
        s.AppendLine(c, $"""<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">devices Active on {Escape(scenario.Version)}</text>""");
        foreach (var w in scenario.WaveTimes)
        {
            s.AppendLine(c, $"""<line x1="{X(w.StartedSeconds):0.0}" y1="{T}" x2="{X(w.StartedSeconds):0.0}" y2="{H - B}" stroke="#c33" stroke-dasharray="4 3"/><text x="{X(w.StartedSeconds) + 3:0.0}" y="{T + 12 + ((w.Wave - 1) % 4 * 13)}" fill="#c33">wave {w.Wave} ({w.Devices})</text>""");
        }

        if (scenario.AbortedSeconds is { } aborted)
        {
            var back = scenario.RollbackSeconds is { } rb ? string.Create(c, $", all back on the previous version {rb:0.0} s later") : "";
            s.AppendLine(c, $"""<line x1="{X(aborted):0.0}" y1="{T}" x2="{X(aborted):0.0}" y2="{H - B}" stroke="black" stroke-dasharray="2 2"/><text x="{X(aborted) + 3:0.0}" y="{T + 64}">abort{back}</text>""");
        }

        var points = string.Join(' ', scenario.Progress.Select(p => string.Create(c, $"{X(p[0]):0.0},{Y(p[1]):0.0}")));
        s.AppendLine(c, $"""<polyline fill="none" stroke="#1f6fb4" stroke-width="2" points="{points}"/>""");
        s.AppendLine("</svg>");
        return s.ToString();
    }

    private static double NiceCeiling(double value)
    {
        foreach (var step in new[] { 5.0, 10, 20, 30, 60, 90, 120, 180, 240, 300, 600 })
        {
            if (value <= step)
            {
                return step;
            }
        }

        return Math.Ceiling(value / 100) * 100;
    }

    private static string Escape(string text) => System.Security.SecurityElement.Escape(text) ?? text;
}
