using System.Diagnostics;
using System.Net;
using EdgeAgent.Cli.Dashboard;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// The web dashboard of <c>edgectl demo</c> (docs/dashboard.md): served over the demo's broker with control enabled
/// (the demo is its own operator), started before the agents so it sees every birth, event and drift window.
/// </summary>
internal static class DemoDashboard
{
    private static readonly string[] Openers = ["/usr/bin/xdg-open", "/usr/local/bin/xdg-open"];

    /// <summary>
    /// Starts it on <paramref name="listen"/>; with <paramref name="fallBack"/> (the default address was not chosen by
    /// the user) a port already in use moves it to a free port instead of failing.
    /// </summary>
    public static async Task<DashboardHost> StartAsync(string brokerUrl, IPEndPoint listen, bool fallBack, CancellationToken cancellationToken)
    {
        var settings = new DashboardSettings { BrokerUrl = brokerUrl, Listen = listen, Operator = true };
        try
        {
            return await DashboardHost.StartAsync(settings, cancellationToken);
        }
        catch (IOException ex) when (fallBack && DashboardServer.IsAddressInUse(ex))
        {
            return await DashboardHost.StartAsync(settings with { Listen = new IPEndPoint(listen.Address, 0) }, cancellationToken);
        }
    }

    /// <summary>
    /// Opens <paramref name="url"/> in the desktop's browser (<c>xdg-open</c>) when there is a desktop; false when
    /// there is none (a server, SSH, CI) or it could not be started — the URL is printed either way.
    /// </summary>
    public static bool TryOpenBrowser(Uri url)
    {
        var desktop = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DISPLAY")) || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("WAYLAND_DISPLAY"));
        var opener = Openers.FirstOrDefault(File.Exists);
        if (!desktop || opener is null)
        {
            return false;
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(opener, [url.ToString()])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            return process is not null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
