using System.Diagnostics;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>A real broker for a test: the embedded MQTTnet server, or a mosquitto process when the test asks for it.</summary>
public abstract class TestBroker : IAsyncDisposable
{
    public abstract string Url { get; }

    public static async Task<TestBroker> EmbeddedAsync(int port = 0) => new Embedded(await EmbeddedBroker.StartAsync(port));

    public static string? MosquittoPath() =>
        new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto" }.FirstOrDefault(File.Exists);

    public static async Task<TestBroker> MosquittoAsync(string workDirectory)
    {
        var path = MosquittoPath() ?? throw new InvalidOperationException("mosquitto is not installed");
        var port = EmbeddedBroker.FreePort();
        var config = Path.Combine(workDirectory, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\npersistence false\n");
        var process = Process.Start(new ProcessStartInfo(path, ["-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new Mosquitto(process, port);
        await Wait.UntilAsync(() => CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto to accept connections");
        return broker;
    }

    private static bool CanConnect(int port)
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

    private sealed class Mosquitto(Process process, int port) : TestBroker
    {
        public override string Url => $"mqtt://127.0.0.1:{port}";

        public override async ValueTask DisposeAsync()
        {
            if (!process.HasExited)
            {
                process.Kill();
                await process.WaitForExitAsync();
            }

            process.Dispose();
        }
    }
}
