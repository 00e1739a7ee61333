using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace EdgeAgent.Agent.Tests.Systemd;

/// <summary>
/// Plays systemd for the real <c>edge-agent</c> process: a unix datagram socket as <c>NOTIFY_SOCKET</c>,
/// <c>WATCHDOG_USEC</c>, and a parent process named <c>systemd</c> (a <c>systemd</c> symlink to bash that starts the
/// agent and waits for it), which is what makes <c>UseSystemd()</c> switch on its notifications and journald formatter.
/// </summary>
public sealed class FakeSystemd : IAsyncDisposable
{
    private readonly string _work;
    private readonly Socket _notify;
    private readonly ConcurrentQueue<(long At, string Message)> _messages = new();
    private readonly ConcurrentQueue<string> _output = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private Process? _launcher;
    private int _agentPid;

    public FakeSystemd()
    {
        _work = Directory.CreateTempSubdirectory("ea-sd-").FullName;
        _notify = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        _notify.Bind(new UnixDomainSocketEndPoint(NotifySocket));
        _receiving = ReceiveAsync();
    }

    public string NotifySocket => Path.Combine(_work, "notify");

    public TimeSpan WatchdogInterval { get; private set; }

    /// <summary>Everything the agent wrote to stdout and stderr, one line each.</summary>
    public IReadOnlyList<string> Output => [.. _output];

    public bool AgentExited => _launcher?.HasExited ?? false;

    public int ExitCode => _launcher!.ExitCode;

    public string Describe() => $"notifications: {string.Join(", ", _messages.Select(m => m.Message.Replace('\n', ' ')))}\noutput:\n{string.Join('\n', _output.TakeLast(40))}";

    public int Count(string message) => _messages.Count(m => m.Message.Split('\n').Contains(message));

    /// <summary>Time since the agent last sent <paramref name="message"/> (systemd's view of a watchdog), or null if never.</summary>
    public TimeSpan? SinceLast(string message)
    {
        var last = _messages.Where(m => m.Message.Split('\n').Contains(message)).Select(m => (long?)m.At).LastOrDefault();
        return last is { } at ? Stopwatch.GetElapsedTime(at) : null;
    }

    /// <summary>Starts the agent under the fake systemd with <c>WatchdogSec=</c> <paramref name="watchdog"/>.</summary>
    public void Start(TimeSpan watchdog, IReadOnlyDictionary<string, object>? agent = null, string? hangAt = null)
    {
        WatchdogInterval = watchdog;
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var key = Path.Combine(_work, "release.pub.pem");
        File.WriteAllText(key, ecdsa.ExportSubjectPublicKeyInfoPem());
        var agentSection = new Dictionary<string, object>
        {
            ["DeviceId"] = "sd-device",
            ["StateDirectory"] = Path.Combine(_work, "state"),
            ["ApiSocket"] = Path.Combine(_work, "api.sock"),
        };
        foreach (var (k, v) in agent ?? new Dictionary<string, object>())
        {
            agentSection[k] = v;
        }

        var config = Path.Combine(_work, "edge-agent.json");
        File.WriteAllText(config, JsonSerializer.Serialize(new
        {
            Agent = agentSection,
            Mqtt = new { Url = "mqtt://127.0.0.1:1", MaxReconnectDelaySeconds = 5 },
            Trust = new { PublicKeys = new[] { key } },
        }));

        var systemd = Path.Combine(_work, "systemd");
        File.CreateSymbolicLink(systemd, "/bin/bash");

        // bash stays the agent's parent (the agent runs in the background and bash waits), so /proc/PPID/comm is "systemd".
        var start = new ProcessStartInfo(systemd, ["-c", "\"$@\" & echo \"agent-pid $!\"; wait $!", "systemd", "dotnet", Path.Combine(AppContext.BaseDirectory, "edge-agent.dll"), "--config", config])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["NOTIFY_SOCKET"] = NotifySocket;
        start.Environment["WATCHDOG_USEC"] = ((long)watchdog.TotalMicroseconds).ToString(CultureInfo.InvariantCulture);
        start.Environment.Remove("WATCHDOG_PID");
        start.Environment.Remove("JOURNAL_STREAM");
        start.Environment.Remove("INVOCATION_ID");
        start.Environment["EDGEAGENT_FAULT_HANG_AT"] = hangAt ?? string.Empty;
        start.Environment["EDGEAGENT_FAULT_KILL_AT"] = string.Empty;
        start.Environment["DOTNET_gcServer"] = "0";
        _launcher = Process.Start(start) ?? throw new InvalidOperationException("the fake systemd did not start");
        _launcher.OutputDataReceived += (_, e) => Keep(e.Data);
        _launcher.ErrorDataReceived += (_, e) => Keep(e.Data);
        _launcher.BeginOutputReadLine();
        _launcher.BeginErrorReadLine();
    }

    /// <summary>What <c>systemctl stop</c> does: SIGTERM to the main process.</summary>
    public async Task StopAsync()
    {
        await Infrastructure.Wait.UntilAsync(() => _agentPid != 0, Infrastructure.Wait.Default, "the agent's pid");
        using var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _agentPid.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!;
        await term.WaitForExitAsync();
    }

    public async Task<bool> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _launcher!.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_launcher is not null)
        {
            if (!_launcher.HasExited)
            {
                _launcher.Kill(entireProcessTree: true);
            }

            await _launcher.WaitForExitAsync();
            _launcher.Dispose();
        }

        await _stop.CancelAsync();
        _notify.Dispose();
        try
        {
            await _receiving;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            // Closed.
        }

        _stop.Dispose();
        try
        {
            Directory.Delete(_work, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[4096];
        while (!_stop.IsCancellationRequested)
        {
            var n = await _notify.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
            _messages.Enqueue((Stopwatch.GetTimestamp(), Encoding.UTF8.GetString(buffer, 0, n).TrimEnd('\n')));
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (_agentPid == 0 && line.StartsWith("agent-pid ", StringComparison.Ordinal))
        {
            _agentPid = int.Parse(line["agent-pid ".Length..], CultureInfo.InvariantCulture);
            return;
        }

        _output.Enqueue(line);
    }
}
