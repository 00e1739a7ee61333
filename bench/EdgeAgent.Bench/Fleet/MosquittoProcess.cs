using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Bench.Fleet;

/// <summary>
/// A mosquitto process for the fleet simulation: a generated config on a free port (Nagle off, connection log on
/// stdout so that client ports map to device ids), started under a raised open-file limit.
/// </summary>
public sealed partial class MosquittoProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentDictionary<int, string> _clientsByPort = new();

    private MosquittoProcess(Process process, int port)
    {
        _process = process;
        Port = port;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Port { get; }

    public string Url => $"mqtt://127.0.0.1:{Port}";

    public int Pid => _process.Id;

    /// <summary>The open-file limit the broker runs under (from /proc/PID/limits).</summary>
    public string OpenFileLimit { get; private set; } = "?";

    private static readonly string[] Candidates = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

    public static string? Path() => Candidates.FirstOrDefault(File.Exists);

    public static async Task<MosquittoProcess> StartAsync(string work, int openFiles = 16384)
    {
        var path = Path() ?? throw new InvalidOperationException("mosquitto is not installed (apt-get install mosquitto)");
        var port = EmbeddedBroker.FreePort();
        var config = System.IO.Path.Combine(work, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            set_tcp_nodelay true
            max_queued_messages 10000
            persistence false
            log_dest stderr
            log_type error
            log_type warning
            log_type notice
            connection_messages true
            log_timestamp false
            sys_interval 1

            """);
        var process = Process.Start(new ProcessStartInfo("/bin/sh", ["-c", $"ulimit -n {openFiles.ToString(CultureInfo.InvariantCulture)} && exec {path} -c {config}"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new MosquittoProcess(process, port);
        var until = DateTime.UtcNow.AddSeconds(10);
        while (!CanConnect(port))
        {
            if (process.HasExited || DateTime.UtcNow > until)
            {
                throw new InvalidOperationException($"mosquitto did not accept connections on {port}");
            }

            await Task.Delay(50);
        }

        broker.OpenFileLimit = File.ReadLines($"/proc/{process.Id}/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[3] ?? "?";
        return broker;
    }

    /// <summary>The client id of the latest connection from local port <paramref name="port"/>.</summary>
    public string? ClientOf(int port) => _clientsByPort.TryGetValue(port, out var id) ? id : null;

    /// <summary>CPU seconds (user + system) the broker used so far, from /proc/PID/stat.</summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // After the command: field 3 is state, so utime (14) and stime (15) are at 11 and 12.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    /// <summary>Resident set size now and its peak (VmRSS, VmHWM) in bytes.</summary>
    public (long Rss, long Peak) Memory() => ProcMemory(_process.Id);

    public static (long Rss, long Peak) ProcMemory(int pid)
    {
        long rss = 0, peak = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = KiloBytes(line) * 1024;
            }
            else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                peak = KiloBytes(line) * 1024;
            }
        }

        return (rss, peak);

        static long KiloBytes(string line) => long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        var match = Connected().Match(line);
        if (match.Success)
        {
            _clientsByPort[int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture)] = match.Groups[2].Value;
        }
    }

    [GeneratedRegex(@"New client connected from [^ ]*:(\d+) as (\S+)")]
    private static partial Regex Connected();

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> (a broker that has started).</summary>
    internal static bool CanConnect(int port)
    {
        try
        {
            using var client = new System.Net.Sockets.TcpClient();
            client.Connect(System.Net.IPAddress.Loopback, port);
            return true;
        }
        catch (System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
