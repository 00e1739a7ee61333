using System.Globalization;
using System.Net;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>What <see cref="DashboardHost.StartAsync"/> needs: the broker (a URL, or a connection factory), where to listen, and whether control is enabled.</summary>
internal sealed record DashboardSettings
{
    public const string DefaultListen = "127.0.0.1:8080";

    /// <summary><c>mqtt://HOST:PORT</c> or <c>mqtts://HOST:PORT</c> (system trust store); ignored when <see cref="Connect"/> is set.</summary>
    public string? BrokerUrl { get; init; }

    public string Prefix { get; init; } = Topics.DefaultPrefix;

    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>
    /// Makes a broker connection (for TLS files, or a caller that builds connections its own way); called once at
    /// start and again after every lost connection. Wins over <see cref="BrokerUrl"/>.
    /// </summary>
    public Func<CancellationToken, Task<FleetConnection>>? Connect { get; init; }

    /// <summary>Where the HTTP server listens; port 0 picks a free port (<see cref="DashboardHost.Url"/> has the real one).</summary>
    public IPEndPoint Listen { get; init; } = new(IPAddress.Loopback, 8080);

    /// <summary>Whether the page may pause, resume and abort rollouts (<c>--operator</c>); read-only otherwise.</summary>
    public bool Operator { get; init; }

    /// <summary>Where the dashboard and its web server log (nothing when null). ASP.NET Core's own categories below Warning are left out.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    public TimeProvider? Time { get; init; }

    /// <summary>Reads <c>--listen</c>: <c>IPV4:PORT</c>, <c>[IPV6]:PORT</c> or <c>localhost:PORT</c>, port 0 to 65535.</summary>
    public static bool TryParseListen(string? text, out IPEndPoint? endpoint, out string error)
    {
        endpoint = null;
        error = $"'{text}' is not HOST:PORT with an IP address (or localhost) and a port 0-65535, e.g. {DefaultListen}";
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        var colon = text.LastIndexOf(':');
        if (colon > 0 && string.Equals(text[..colon], "localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port <= IPEndPoint.MaxPort)
            {
                endpoint = new IPEndPoint(IPAddress.Loopback, port);
                return true;
            }

            return false;
        }

        // IPEndPoint.TryParse also takes a bare address (port 0): the port must be written.
        if (colon < 0 || text.EndsWith(']') || !IPEndPoint.TryParse(text, out var parsed))
        {
            return false;
        }

        if (parsed.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && !text.StartsWith('['))
        {
            return false;
        }

        endpoint = parsed;
        return true;
    }

    internal Func<CancellationToken, Task<FleetConnection>> ConnectionFactory()
    {
        if (Connect is { } connect)
        {
            return connect;
        }

        if (string.IsNullOrEmpty(BrokerUrl))
        {
            throw new ArgumentException("the dashboard needs a broker URL or a connection factory");
        }

        return ct => FleetConnection.ConnectAsync(BrokerUrl, Prefix, username: Username, password: Password, cancellationToken: ct);
    }
}
