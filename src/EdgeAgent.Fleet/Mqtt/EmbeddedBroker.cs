using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MQTTnet.Server;

namespace EdgeAgent.Fleet.Mqtt;

/// <summary>An in-process MQTTnet broker on a free loopback port, for <c>edgectl demo</c> and the tests.</summary>
public sealed class EmbeddedBroker : IAsyncDisposable
{
    private readonly MqttServer _server;
    private readonly ConcurrentQueue<(string ClientId, string Topic)> _subscriptions = new();

    private EmbeddedBroker(MqttServer server, int port)
    {
        _server = server;
        Port = port;
        _server.ClientSubscribedTopicAsync += e =>
        {
            _subscriptions.Enqueue((e.ClientId, e.TopicFilter.Topic));
            return Task.CompletedTask;
        };
    }

    /// <summary>Every subscription any client made, in order (the tests use it to see what a device asked for).</summary>
    public IReadOnlyCollection<(string ClientId, string Topic)> Subscriptions => _subscriptions;

    public int Port { get; }

    public string Url => $"mqtt://127.0.0.1:{Port}";

    public static async Task<EmbeddedBroker> StartAsync(int port = 0)
    {
        if (port == 0)
        {
            port = FreePort();
        }

        var factory = new MqttServerFactory();
        var options = factory.CreateServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointPort(port)
            .WithDefaultEndpointReuseAddress()
            .Build();
        var server = factory.CreateMqttServer(options);
        await server.StartAsync();
        return new EmbeddedBroker(server, port);
    }

    /// <summary>Disconnects one client (as a broker restart or a network drop would for that device).</summary>
    public async Task DisconnectClientAsync(string clientId)
    {
        foreach (var client in await _server.GetClientsAsync())
        {
            if (client.Id == clientId)
            {
                await client.DisconnectAsync();
            }
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync();
        _server.Dispose();
    }
}
