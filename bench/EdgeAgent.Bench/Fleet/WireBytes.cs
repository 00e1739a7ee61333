using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeAgent.Bench.Fleet;

/// <summary>
/// Kernel per-socket byte counters (<c>ss -tin</c>) of the client sockets connected to the broker: bytes each client
/// received (<c>bytes_received</c>) and sent (<c>bytes_acked</c>), MQTT framing and all, keyed by the client's local port.
/// </summary>
public static partial class WireBytes
{
    public readonly record struct Counters(long Received, long Sent);

    /// <summary>Local port to counters, for every established client socket to <paramref name="brokerPort"/>; empty when ss is missing.</summary>
    public static async Task<Dictionary<int, Counters>> SnapshotAsync(int brokerPort)
    {
        var result = new Dictionary<int, Counters>();
        string output;
        try
        {
            using var ss = Process.Start(new ProcessStartInfo("ss", ["-tinH", "state", "established", $"( dport = :{brokerPort.ToString(CultureInfo.InvariantCulture)} )"])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            output = await ss.StandardOutput.ReadToEndAsync();
            await ss.WaitForExitAsync();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return result;
        }

        int? port = null;
        foreach (var line in output.Split('\n'))
        {
            if (line.Length == 0)
            {
                continue;
            }

            if (!char.IsWhiteSpace(line[0]) && Address().Match(line) is { Success: true } address)
            {
                port = int.Parse(address.Groups[1].Value, CultureInfo.InvariantCulture);
            }

            if (port is { } p && BytesReceived().Match(line) is { Success: true } received)
            {
                var acked = BytesAcked().Match(line);
                result[p] = new Counters(long.Parse(received.Groups[1].Value, CultureInfo.InvariantCulture), acked.Success ? long.Parse(acked.Groups[1].Value, CultureInfo.InvariantCulture) : 0);
                port = null;
            }
        }

        return result;
    }

    [GeneratedRegex(@"\S+:(\d+)\s+\S+:\d+")]
    private static partial Regex Address();

    [GeneratedRegex(@"bytes_received:(\d+)")]
    private static partial Regex BytesReceived();

    [GeneratedRegex(@"bytes_acked:(\d+)")]
    private static partial Regex BytesAcked();
}
