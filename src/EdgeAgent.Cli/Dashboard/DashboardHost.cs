using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// A running dashboard: broker state plus HTTP server. <c>edgectl fleet dashboard</c> and <c>edgectl demo</c> start it
/// with <see cref="StartAsync"/> and stop it by disposing it.
/// </summary>
internal sealed class DashboardHost : IAsyncDisposable
{
    private readonly DashboardServer _server;

    private DashboardHost(DashboardState state, DashboardServer server)
    {
        State = state;
        _server = server;
    }

    /// <summary>The page's address with the real port, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri Url => _server.Url;

    public bool ReadOnly => State.ReadOnly;

    public DashboardState State { get; }

    /// <summary>Connects to the broker, subscribes, and starts serving.</summary>
    /// <exception cref="BrokerUnreachableException">the first connection to the broker failed.</exception>
    /// <exception cref="IOException">the listen endpoint cannot be bound (e.g. the port is in use).</exception>
    public static async Task<DashboardHost> StartAsync(DashboardSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var time = settings.Time ?? TimeProvider.System;
        var logger = settings.LoggerFactory?.CreateLogger("EdgeAgent.Cli.Dashboard");
        var state = new DashboardState(settings.ConnectionFactory(), readOnly: !settings.Operator, time, logger);
        try
        {
            await state.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            await state.DisposeAsync();
            throw new BrokerUnreachableException(ex.Message, ex);
        }
        catch
        {
            await state.DisposeAsync();
            throw;
        }

        try
        {
            return new DashboardHost(state, await DashboardServer.StartAsync(state, settings.Listen, settings.LoggerFactory, time, cancellationToken));
        }
        catch
        {
            await state.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _server.DisposeAsync();
        await State.DisposeAsync();
    }
}
