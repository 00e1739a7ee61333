using System.Diagnostics;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>A real broker for a test: the embedded MQTTnet server, or a mosquitto process when the test asks for it.</summary>
public abstract class TestBroker : IAsyncDisposable
{
    public abstract string Url { get; }

    /// <summary>The operator's TLS material for this broker (CA and client certificate); null for a plain broker.</summary>
    public virtual Core.Mqtt.BrokerTls? OperatorTls() => null;

    public static async Task<TestBroker> EmbeddedAsync(int port = 0) => new Embedded(await EmbeddedBroker.StartAsync(port));

    public static string? MosquittoPath() =>
        new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto" }.FirstOrDefault(File.Exists);

    /// <summary>
    /// A mosquitto process. With <paramref name="persistent"/> it keeps retained messages in a file across a restart
    /// (<see cref="Mosquitto.RestartAsync"/>), as a production broker does. With <paramref name="passwordFile"/> (made
    /// with <c>mosquitto_passwd</c>) it refuses anonymous clients.
    /// </summary>
    public static async Task<TestBroker> MosquittoAsync(string workDirectory, int port = 0, bool persistent = false, string? passwordFile = null)
    {
        var path = MosquittoPath() ?? throw new InvalidOperationException("mosquitto is not installed");
        port = port == 0 ? EmbeddedBroker.FreePort() : port;
        var config = Path.Combine(workDirectory, "mosquitto.conf");
        var store = Path.Combine(workDirectory, "mosquitto-db");
        if (persistent && !OperatingSystem.IsWindows())
        {
            // Run as root, mosquitto drops to its own user: it must be able to write its database there.
            Directory.CreateDirectory(store);
            File.SetUnixFileMode(store, (UnixFileMode)0x1FF);
            File.SetUnixFileMode(workDirectory, File.GetUnixFileMode(workDirectory) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        var persistence = persistent ? $"persistence true\npersistence_location {store}/\n" : "persistence false\n";
        var access = passwordFile is null ? "allow_anonymous true\n" : $"allow_anonymous false\npassword_file {passwordFile}\n";
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\n{access}set_tcp_nodelay true\nmax_queued_messages 10000\nlog_dest none\n{persistence}");
        var process = Process.Start(new ProcessStartInfo(path, ["-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new Mosquitto(process, port, path, config);
        await Wait.UntilAsync(() => CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto to accept connections");
        return broker;
    }

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

    public abstract ValueTask DisposeAsync();

    public sealed class Embedded(EmbeddedBroker broker) : TestBroker
    {
        public EmbeddedBroker Broker { get; } = broker;

        public override string Url => Broker.Url;

        public override ValueTask DisposeAsync() => Broker.DisposeAsync();
    }

    public sealed class Mosquitto(Process process, int port, string path, string config) : TestBroker
    {
        private Process? _process = process;

        public override string Url => $"mqtt://127.0.0.1:{port}";

        public int Port => port;

        /// <summary>Stops mosquitto the way systemd does (SIGTERM: it saves retained messages when persistent) and starts it again on the same port.</summary>
        public async Task RestartAsync()
        {
            await StopAsync();
            await StartAsync();
        }

        /// <summary>SIGTERM, and waits for mosquitto to exit: the port refuses connections until <see cref="StartAsync"/>.</summary>
        public async Task StopAsync()
        {
            if (_process is null)
            {
                return;
            }

            using (var term = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            {
                await term.WaitForExitAsync();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
            _process = null;
        }

        /// <summary>Starts the stopped mosquitto again with the same config and port.</summary>
        public async Task StartAsync()
        {
            if (_process is not null)
            {
                throw new InvalidOperationException("mosquitto is running");
            }

            _process = Process.Start(new ProcessStartInfo(path, ["-c", config])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            }) ?? throw new InvalidOperationException("mosquitto did not start again");
            await Wait.UntilAsync(() => CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto to accept connections again");
        }

        public override async ValueTask DisposeAsync()
        {
            if (_process is null)
            {
                return;
            }

            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
            _process = null;
        }
    }
}
