using System.Net;
using System.Net.Sockets;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>
/// A TCP relay between the agent and its broker, so a test can take the device's link away and give it back at a
/// moment of its choosing (e.g. only after an observer has subscribed to a restarted broker). While cut, the port
/// refuses connections and every relayed connection is closed, as when the broker host is down.
/// </summary>
public sealed class TcpCable : IAsyncDisposable
{
    private readonly int _target;
    private readonly Lock _gate = new();
    private readonly List<TcpClient> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _accepting;

    private TcpCable(int target)
    {
        _target = target;
        Port = Fleet.Mqtt.EmbeddedBroker.FreePort();
    }

    public int Port { get; }

    public string Url => $"mqtt://127.0.0.1:{Port}";

    /// <summary>Connections relayed so far (the agent's reconnects show here).</summary>
    public int Connections { get; private set; }

    public static TcpCable Connect(int targetPort)
    {
        var cable = new TcpCable(targetPort);
        cable.Restore();
        return cable;
    }

    public void Restore()
    {
        lock (_gate)
        {
            if (_listener is not null)
            {
                return;
            }

            var listener = new TcpListener(IPAddress.Loopback, Port);
            listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            listener.Start();
            _listener = listener;
            _stop = new CancellationTokenSource();
            _accepting = AcceptAsync(listener, _stop.Token);
        }
    }

    public async Task CutAsync()
    {
        Task? accepting;
        lock (_gate)
        {
            if (_listener is null)
            {
                return;
            }

            _stop!.Cancel();
            _listener.Stop();
            _listener = null;
            foreach (var client in _open)
            {
                client.Dispose();
            }

            _open.Clear();
            accepting = _accepting;
        }

        if (accepting is not null)
        {
            await accepting;
        }

        lock (_gate)
        {
            if (_listener is null)
            {
                _stop?.Dispose();
                _stop = null;
            }
        }
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient device;
            try
            {
                device = await listener.AcceptTcpClientAsync(stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            var broker = new TcpClient();
            try
            {
                await broker.ConnectAsync(IPAddress.Loopback, _target, stop);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException)
            {
                device.Dispose();
                broker.Dispose();
                continue;
            }

            lock (_gate)
            {
                if (stop.IsCancellationRequested)
                {
                    device.Dispose();
                    broker.Dispose();
                    return;
                }

                _open.Add(device);
                _open.Add(broker);
                Connections++;
            }

            device.NoDelay = true;
            broker.NoDelay = true;
            _ = RelayAsync(device, broker);
        }
    }

    private static async Task RelayAsync(TcpClient a, TcpClient b)
    {
        try
        {
            var one = a.GetStream().CopyToAsync(b.GetStream());
            var other = b.GetStream().CopyToAsync(a.GetStream());
            await Task.WhenAny(one, other);
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
            // Cut, or one side closed.
        }
        finally
        {
            a.Dispose();
            b.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await CutAsync();
}
