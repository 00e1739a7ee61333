using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli.Tests.Dashboard;

/// <summary><c>edgectl fleet dashboard</c> as a process: the URL line, exit codes, SIGTERM.</summary>
public sealed partial class DashboardCommandTests : IAsyncDisposable
{
    private EmbeddedBroker? _broker;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary><c>edgectl fleet dashboard --broker (a new embedded broker) ARGS</c> as a process, output redirected.</summary>
    private async Task<Process> StartDashboardAsync(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        _broker = await EmbeddedBroker.StartAsync();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edgectl.dll"), "fleet", "dashboard", "--broker", _broker.Url, .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        return Process.Start(start)!;
    }

    /// <summary>The test's token, cancelled after 30 s.</summary>
    private static CancellationTokenSource Limit()
    {
        var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        limit.CancelAfter(TimeSpan.FromSeconds(30));
        return limit;
    }

    [Fact]
    public async Task Fleet_dashboard_prints_its_url_serves_the_api_and_stops_on_SIGTERM()
    {
        // Only --listen binds (no warning about it either).
        using var process = await StartDashboardAsync(new Dictionary<string, string> { ["ASPNETCORE_URLS"] = "http://127.0.0.1:1" }, "--listen", "127.0.0.1:0", "--operator");
        try
        {
            using var limit = Limit();
            var line = await process.StandardOutput.ReadLineAsync(limit.Token);
            var match = UrlLine().Match(line ?? string.Empty);
            Assert.True(match.Success, $"stdout: {line}; stderr: {(process.HasExited ? await process.StandardError.ReadToEndAsync(Ct) : string.Empty)}");

            using var http = new HttpClient();
            using var info = JsonDocument.Parse(await http.GetStringAsync(new Uri(new Uri(match.Groups["url"].Value), "api/info"), Ct));
            Assert.False(info.RootElement.GetProperty("readOnly").GetBoolean());
            Assert.True(info.RootElement.GetProperty("connected").GetBoolean());

            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync(Ct);
            }

            await process.WaitForExitAsync(limit.Token);
            Assert.Equal(0, process.ExitCode);
            Assert.Equal(string.Empty, (await process.StandardError.ReadToEndAsync(Ct)).Trim());
        }
        finally
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
            }
        }
    }

    [Fact]
    public async Task With_json_the_start_line_is_one_json_object()
    {
        using var process = await StartDashboardAsync(null, "--listen", "localhost:0", "--json");
        try
        {
            using var limit = Limit();
            using var line = JsonDocument.Parse(await process.StandardOutput.ReadLineAsync(limit.Token) ?? "null");
            Assert.True(line.RootElement.GetProperty("readOnly").GetBoolean());
            Assert.StartsWith("http://127.0.0.1:", line.RootElement.GetProperty("url").GetString(), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [Fact]
    public async Task An_operator_dashboard_on_a_network_address_warns_that_anyone_can_control_rollouts()
    {
        using var process = await StartDashboardAsync(null, "--listen", "0.0.0.0:0", "--operator");
        try
        {
            using var limit = Limit();
            var warning = await process.StandardError.ReadLineAsync(limit.Token);
            Assert.Matches(@"^edgectl: warning: --operator on 0\.0\.0\.0:[1-9]\d*: anyone who can reach this port can pause and abort rollouts", warning);
            Assert.StartsWith("dashboard: http://0.0.0.0:", await process.StandardOutput.ReadLineAsync(limit.Token), StringComparison.Ordinal);
        }
        finally
        {
            process.Kill(entireProcessTree: true);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("127.0.0.1")]
    [InlineData("127.0.0.1:70000")]
    [InlineData("example.com:8080")]
    public async Task A_bad_listen_value_exits_2_before_connecting(string listen)
    {
        var result = await Edgectl.RunAsync("fleet", "dashboard", "--broker", "mqtt://127.0.0.1:1", "--listen", listen);
        Assert.Equal(2, result.Code);
        Assert.StartsWith($"edgectl: --listen '{listen}' is not HOST:PORT", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task An_unreachable_broker_exits_4()
    {
        var result = await Edgectl.RunAsync("fleet", "dashboard", "--broker", "mqtt://127.0.0.1:1", "--listen", "127.0.0.1:0");
        Assert.Equal(4, result.Code);
        Assert.StartsWith("edgectl: cannot connect to broker mqtt://127.0.0.1:1", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_port_in_use_exits_1_with_one_line()
    {
        _broker = await EmbeddedBroker.StartAsync();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;
        var result = await Edgectl.RunAsync("fleet", "dashboard", "--broker", _broker.Url, "--listen", $"127.0.0.1:{port}");
        Assert.Equal(1, result.Code);
        Assert.Equal($"edgectl: cannot listen on 127.0.0.1:{port}: address already in use", result.Stderr.Trim());
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }

    [GeneratedRegex(@"^dashboard: (?<url>http://127\.0\.0\.1:\d+/) \(operator: control enabled\)$")]
    private static partial Regex UrlLine();
}
