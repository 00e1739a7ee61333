using System.Diagnostics;
using System.Globalization;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>
/// mosquitto started with the shipped <c>deploy-manifests/mosquitto</c> config and ACL (only the port, bind address and
/// <c>/etc/mosquitto/</c> paths templated), and certificates made by the shipped <c>make-certs.sh</c>: a CA, the
/// broker (CN localhost, SAN 127.0.0.1), devices <c>dev-a</c> and <c>dev-b</c>, the <c>operator</c>, and a second,
/// unrelated CA.
/// </summary>
public sealed class TlsMosquitto : TestBroker
{
    private readonly Process _process;

    private TlsMosquitto(Process process, int port, string certs)
    {
        _process = process;
        Port = port;
        Certs = certs;
    }

    public int Port { get; }

    /// <summary>Folder holding <c>ca.crt</c>, <c>NAME.crt</c>, <c>NAME.key</c>; <c>other/ca.crt</c> is an unrelated CA.</summary>
    public string Certs { get; }

    public override string Url => $"mqtts://127.0.0.1:{Port}";

    public static string OpensslPath() => new[] { "/usr/bin/openssl", "/usr/local/bin/openssl" }.FirstOrDefault(File.Exists) ?? string.Empty;

    /// <summary>Why the broker cannot run here (for a visible skip), or null.</summary>
    public static string? Missing() =>
        MosquittoPath() is null ? "mosquitto is not installed (apt-get install mosquitto)"
        : OpensslPath().Length == 0 ? "openssl is not installed (apt-get install openssl)"
        : OperatingSystem.IsWindows() ? "needs a unix shell for make-certs.sh"
        : null;

    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static async Task<TlsMosquitto> StartAsync(string work)
    {
        var manifests = Path.Combine(AppContext.BaseDirectory, "deploy-manifests", "mosquitto");
        var certs = Path.Combine(work, "certs");
        await RunAsync("/bin/sh", Path.Combine(manifests, "make-certs.sh"), "-o", certs, "dev-a", "dev-b", "operator");
        await RunAsync("/bin/sh", Path.Combine(manifests, "make-certs.sh"), "-o", Path.Combine(certs, "other"), "intruder");

        // Started as root, mosquitto drops to its own user: it must reach and read the config, ACL and broker key.
        foreach (var dir in new[] { work, certs })
        {
            File.SetUnixFileMode(dir, File.GetUnixFileMode(dir) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
        }

        foreach (var file in Directory.GetFiles(certs))
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.OtherRead | UnixFileMode.GroupRead);
        }

        var port = EmbeddedBroker.FreePort();
        var acl = Path.Combine(work, "edgeagent.acl");
        File.Copy(Path.Combine(manifests, "edgeagent.acl"), acl);
        var shipped = await File.ReadAllTextAsync(Path.Combine(manifests, "mosquitto.conf"));
        var templated = shipped
            .Replace("listener 8883", string.Create(CultureInfo.InvariantCulture, $"listener {port} 127.0.0.1"), StringComparison.Ordinal)
            .Replace("/etc/mosquitto/certs/", certs + "/", StringComparison.Ordinal)
            .Replace("/etc/mosquitto/edgeagent.acl", acl, StringComparison.Ordinal);
        Assert.Contains(certs, templated, StringComparison.Ordinal);
        var config = Path.Combine(work, "mosquitto.conf");
        await File.WriteAllTextAsync(config, templated + "log_dest none\n");
        foreach (var file in new[] { acl, config })
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.OtherRead | UnixFileMode.GroupRead);
        }

        var process = Process.Start(new ProcessStartInfo(MosquittoPath()!, ["-c", config])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("mosquitto did not start");
        var broker = new TlsMosquitto(process, port, certs);
        await Wait.UntilAsync(() => process.HasExited || CanConnect(port), TimeSpan.FromSeconds(10), "mosquitto (TLS) to accept connections");
        if (process.HasExited)
        {
            throw new InvalidOperationException($"mosquitto exited ({process.ExitCode}): {await process.StandardError.ReadToEndAsync()}");
        }

        return broker;
    }

    /// <summary>The CA and, unless <paramref name="client"/> is null, that client's certificate and key.</summary>
    public BrokerTls Tls(string? client, string? caFile = null) => BrokerTls.FromPem(
        File.ReadAllText(caFile ?? Path.Combine(Certs, "ca.crt")),
        client is null ? null : File.ReadAllText(Path.Combine(Certs, client + ".crt")),
        client is null ? null : File.ReadAllText(Path.Combine(Certs, client + ".key")));

    public override BrokerTls? OperatorTls() => Tls("operator");

    public async Task<FleetConnection> ConnectAsync(string? client, string? caFile = null)
    {
        using var tls = Tls(client, caFile);
        return await FleetConnection.ConnectAsync(Url, clientId: $"{client ?? "anonymous"}-{Guid.NewGuid():N}", tls: tls, cancellationToken: TestContext.Current.CancellationToken);
    }

    private static async Task RunAsync(string file, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({process.ExitCode}): {await error}");
        }
    }

    public override async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
