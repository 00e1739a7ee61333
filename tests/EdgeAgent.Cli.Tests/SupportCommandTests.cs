using System.Formats.Tar;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Mqtt;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl support-bundle</c> (device, unix socket) and <c>edgectl fleet cmd</c> (operator, MQTT 5 request/response) against a real agent and broker.</summary>
public sealed class SupportCommandTests : IAsyncDisposable
{
    private const string Secret = "inline-broker-password-9f3";
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-support-").FullName;
    private EmbeddedBroker? _broker;
    private Microsoft.AspNetCore.Builder.WebApplication? _agent;

    private async Task<string> StartAgentAsync()
    {
        _broker = await EmbeddedBroker.StartAsync();
        var socket = Path.Combine(_work, "api.sock");
        _agent = Agent.AgentHost.Build(
            new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "dev-9",
                ["Agent:StateDirectory"] = Path.Combine(_work, "state"),
                ["Agent:ApiSocket"] = socket,
                ["Mqtt:Url"] = _broker.Url,
                ["Mqtt:Username"] = "dev-9",
                ["Mqtt:Password"] = Secret,
                ["Trust:PublicKeys:0"] = SigningKeys.Generate(_work, "release").PublicKeyPath,
            }).Build(),
            logging => logging.ClearProviders());
        await Task.Run(() => _agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
        return socket;
    }

    [Fact]
    public async Task Support_bundle_on_the_device_is_written_to_out_and_holds_no_secret()
    {
        var socket = await StartAgentAsync();
        var output = Path.Combine(_work, "out", "bundle.tar.gz");

        var run = await Edgectl.RunAsync("support-bundle", "--socket", socket, "--out", output);

        Assert.True(run.Code == 0, run.Stderr);
        var content = await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken);
        Assert.Equal($"wrote {output} ({content.Length} bytes, sha256 {Convert.ToHexStringLower(SHA256.HashData(content))})", run.Stdout.Trim());
        var files = ReadTarGz(content);
        var config = files.Single(f => f.Key.EndsWith("/config.json", StringComparison.Ordinal)).Value;
        using (var doc = JsonDocument.Parse(config))
        {
            Assert.Equal("(redacted)", doc.RootElement.GetProperty("Mqtt:Password").GetString());
            Assert.Equal("dev-9", doc.RootElement.GetProperty("Mqtt:Username").GetString());
        }

        Assert.Contains(files.Keys, k => k.EndsWith("/logs.txt", StringComparison.Ordinal));
        Assert.Contains(files.Keys, k => k.EndsWith("/status.json", StringComparison.Ordinal));

        // edgectl adds the device checks (as edgectl check --json) to the agent's bundle, in the same folder.
        var check = files.Single(f => f.Key.EndsWith("/check.json", StringComparison.Ordinal));
        Assert.Equal(files.Keys.First(k => k.EndsWith("/status.json", StringComparison.Ordinal))[..^"status.json".Length], check.Key[..^"check.json".Length]);
        using (var doc = JsonDocument.Parse(check.Value))
        {
            Assert.Contains(doc.RootElement.GetProperty("checks").EnumerateArray(), c => c.GetProperty("name").GetString() == "broker");
        }

        Assert.All(files.Values, v => Assert.DoesNotContain(Secret, Encoding.UTF8.GetString(v), StringComparison.Ordinal));

        var unreachable = await Edgectl.RunAsync("support-bundle", "--socket", Path.Combine(_work, "nothing.sock"));
        Assert.Equal(4, unreachable.Code);
        Assert.StartsWith("edgectl: cannot reach the agent at", unreachable.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Fleet_cmd_sends_a_command_over_the_broker_and_writes_a_returned_support_bundle()
    {
        await StartAgentAsync();
        var url = _broker!.Url;
        var mqtt = _agent!.Services.GetRequiredService<Agent.Mqtt.MqttSession>();
        Edgectl.Result report;
        var deadline = DateTime.UtcNow.AddSeconds(30);
        do
        {
            // Until the agent is connected and subscribed to its commands, the broker has nobody to give them to.
            report = await Edgectl.RunAsync("fleet", "cmd", "dev-9", "report-now", "--broker", url, "--json", "--timeout", "5");
        }
        while (report.Code == 7 && DateTime.UtcNow < deadline);

        Assert.True(report.Code == 0, report.Stderr);
        using (var answer = JsonDocument.Parse(report.Stdout))
        {
            Assert.True(answer.RootElement.GetProperty("ok").GetBoolean());
            Assert.Equal("report-now", answer.RootElement.GetProperty("verb").GetString());
            Assert.Equal("dev-9", answer.RootElement.GetProperty("health").GetProperty("deviceId").GetString());
            Assert.Equal(mqtt.SessionSeq, answer.RootElement.GetProperty("health").GetProperty("mqtt").GetProperty("session").GetInt64());
        }

        var output = Path.Combine(_work, "remote.tar.gz");
        var bundle = await Edgectl.RunAsync("fleet", "cmd", "dev-9", "support-bundle", "--broker", url, "--out", output, "--json");
        Assert.True(bundle.Code == 0, bundle.Stderr);
        var content = await File.ReadAllBytesAsync(output, TestContext.Current.CancellationToken);
        using (var answer = JsonDocument.Parse(bundle.Stdout))
        {
            var root = answer.RootElement;
            Assert.False(root.TryGetProperty("bundle", out _), "the base64 bundle goes to the file, not to stdout");
            Assert.Equal(output, root.GetProperty("out").GetString());
            Assert.Equal(content.Length, root.GetProperty("bytes").GetInt32());
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), root.GetProperty("sha256").GetString());
        }

        Assert.Contains(ReadTarGz(content).Keys, k => k.EndsWith("/config.json", StringComparison.Ordinal));

        var human = await Edgectl.RunAsync("fleet", "cmd", "dev-9", "support-bundle", "--broker", url, "--out", output);
        Assert.True(human.Code == 0, human.Stderr);
        Assert.StartsWith($"wrote {output} (", human.Stdout.Trim(), StringComparison.Ordinal);

        var unknown = await Edgectl.RunAsync("fleet", "cmd", "dev-9", "reboot", "--broker", url);
        Assert.Equal(1, unknown.Code);
        Assert.Equal("edgectl: dev-9 answered reboot: unknown verb 'reboot' (this agent knows: capture-export, report-now, support-bundle)", unknown.Stderr.Trim());
    }

    [Fact]
    public async Task Fleet_cmd_to_a_device_that_is_not_connected_fails_at_once_with_exit_7_and_bad_arguments_with_exit_2()
    {
        _broker = await EmbeddedBroker.StartAsync();
        await using (var connection = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            await connection.PublishAsync("edgeagent/v1/devices/gone/status", """{"state":"offline","deviceId":"gone","seq":4}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
        }

        var offline = await Edgectl.RunAsync("fleet", "cmd", "gone", "report-now", "--broker", _broker.Url, "--timeout", "600");

        Assert.Equal(7, offline.Code);
        Assert.Equal("edgectl: device gone is not connected: the broker has no subscriber for edgeagent/v1/devices/gone/cmd/report-now (status: offline (session 4))", offline.Stderr.Trim());

        Assert.Equal(2, (await Edgectl.RunAsync("fleet", "cmd", "gone", "a+b", "--broker", _broker.Url)).Code);
        Assert.Equal(2, (await Edgectl.RunAsync("fleet", "cmd", "no/such", "report-now", "--broker", _broker.Url)).Code);
        var payload = await Edgectl.RunAsync("fleet", "cmd", "gone", "report-now", "--payload", "[1]", "--broker", _broker.Url);
        Assert.Equal(2, payload.Code);
        Assert.Contains("--payload must be a JSON object", payload.Stderr, StringComparison.Ordinal);
    }

    private static Dictionary<string, byte[]> ReadTarGz(byte[] bundle)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        using var gzip = new GZipStream(new MemoryStream(bundle), CompressionMode.Decompress);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            files[entry.Name] = content.ToArray();
        }

        return files;
    }

    public async ValueTask DisposeAsync()
    {
        if (_agent is not null)
        {
            await _agent.StopAsync(CancellationToken.None);
            await _agent.DisposeAsync();
        }

        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }

        Directory.Delete(_work, recursive: true);
    }
}
