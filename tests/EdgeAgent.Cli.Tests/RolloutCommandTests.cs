using System.Text.Json;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli.Tests;

/// <summary>edgectl rollout and fleet as processes against a real broker, without agents (devices that never answer).</summary>
public sealed class RolloutCommandTests : IAsyncDisposable
{
    private EmbeddedBroker? _broker;

    [Fact]
    public async Task A_rollout_whose_first_device_never_answers_aborts_with_exit_6_and_restores_it()
    {
        _broker = await EmbeddedBroker.StartAsync();
        await using (var seed = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            await seed.PublishAsync("edgeagent/v1/devices/pump-1/desired", """{"models":[{"name":"vibration","version":"1.0.0"}]}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
        }

        // Nothing published yet: refused before any device is touched.
        var unpublished = await Edgectl.RunAsync("rollout", "start", "--model", "vibration", "--version", "1.1.0", "--devices", "pump-1", "--broker", _broker.Url);
        Assert.Equal(1, unpublished.Code);
        Assert.Equal("edgectl: vibration 1.1.0 is not published (nothing retained on edgeagent/v1/bundles/vibration/1.1.0/manifest); run 'edgectl bundle publish' first", unpublished.Stderr.Trim());
        await PublishManifestStandInAsync();

        var start = await Edgectl.RunAsync("rollout", "start", "--model", "vibration", "--version", "1.1.0", "--devices", "pump-1,pump-2", "--waves", "1,100%", "--wave-timeout", "1s", "--probation", "30s", "--id", "r1", "--broker", _broker.Url, "--json");
        Assert.True(start.Code == 6, $"exit {start.Code}: {start.Stderr}");
        using (var doc = JsonDocument.Parse(start.Stdout))
        {
            var root = doc.RootElement;
            Assert.Equal("aborted", root.GetProperty("state").GetString());
            Assert.Equal(30, root.GetProperty("probationSeconds").GetInt32());
            var pump1 = root.GetProperty("devices").GetProperty("pump-1");
            Assert.Equal("failed", pump1.GetProperty("status").GetString());
            Assert.StartsWith("timeout:", pump1.GetProperty("reason").GetString(), StringComparison.Ordinal);
            Assert.True(pump1.GetProperty("restored").GetBoolean());
            Assert.Equal("1.0.0", pump1.GetProperty("previousDesired").GetProperty("models")[0].GetProperty("version").GetString());
            Assert.Equal("pending", root.GetProperty("devices").GetProperty("pump-2").GetProperty("status").GetString());
        }

        Assert.Contains("wave 1/2: 1 device(s) (pump-1)", start.Stderr, StringComparison.Ordinal);
        await using (var check = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            var desired = await DesiredStateWriter.ReadAsync(check, "pump-1", cancellationToken: TestContext.Current.CancellationToken);
            Assert.Equal("1.0.0", DesiredStateWriter.EntryOf(desired, "vibration")!.Value.GetProperty("version").GetString());
            Assert.Null(await DesiredStateWriter.ReadAsync(check, "pump-2", TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken));
        }

        var status = await Edgectl.RunAsync("rollout", "status", "r1", "--broker", _broker.Url);
        Assert.True(status.Code == 0, status.Stderr);
        Assert.Contains("aborted", status.Stdout, StringComparison.Ordinal);
        Assert.Contains("pump-1", status.Stdout, StringComparison.Ordinal);

        var list = await Edgectl.RunAsync("rollout", "list", "--broker", _broker.Url, "--json");
        Assert.True(list.Code == 0, list.Stderr);
        using (var doc = JsonDocument.Parse(list.Stdout))
        {
            var r1 = Assert.Single(doc.RootElement.EnumerateArray());
            Assert.Equal("r1", r1.GetProperty("id").GetString());
            Assert.Equal(1, r1.GetProperty("counts").GetProperty("failed").GetInt32());
        }

        var pause = await Edgectl.RunAsync("rollout", "pause", "r1", "--broker", _broker.Url);
        Assert.Equal(1, pause.Code);
        Assert.Equal("edgectl: rollout 'r1' is aborted; only a running rollout can be paused", pause.Stderr.Trim());
        var missing = await Edgectl.RunAsync("rollout", "status", "nope", "--broker", _broker.Url);
        Assert.Equal(1, missing.Code);
        Assert.Equal("edgectl: no rollout 'nope' on edgeagent/v1/rollouts/nope", missing.Stderr.Trim());
    }

    [Fact]
    public async Task Group_targets_are_the_devices_whose_reported_state_lists_the_group()
    {
        _broker = await EmbeddedBroker.StartAsync();
        await using (var seed = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            // No agent here: reported documents as devices with Agent:Groups publish them.
            await seed.PublishAsync("edgeagent/v1/devices/b-2/reported", """{"deviceId":"b-2","groups":["line-a","line-b"],"models":[]}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
            await seed.PublishAsync("edgeagent/v1/devices/a-1/reported", """{"deviceId":"a-1","groups":["line-a"],"models":[]}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
            await seed.PublishAsync("edgeagent/v1/devices/c-3/reported", """{"deviceId":"c-3","groups":["line-b"],"models":[]}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
        }

        await PublishManifestStandInAsync();

        var start = await Edgectl.RunAsync("rollout", "start", "--model", "vibration", "--version", "1.1.0", "--group", "line-a", "--waves", "100%", "--wave-timeout", "1s", "--id", "g1", "--broker", _broker.Url, "--json");
        Assert.True(start.Code == 6, $"exit {start.Code}: {start.Stderr}");
        using (var doc = JsonDocument.Parse(start.Stdout))
        {
            Assert.Equal(["a-1", "b-2"], doc.RootElement.GetProperty("targets").EnumerateArray().Select(t => t.GetString()));
            Assert.Equal("line-a", doc.RootElement.GetProperty("group").GetString());
        }

        // Devices that had no desired document before get none again.
        await using (var check = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            Assert.Null(await DesiredStateWriter.ReadAsync(check, "a-1", TimeSpan.FromMilliseconds(300), TestContext.Current.CancellationToken));
        }

        var none = await Edgectl.RunAsync("rollout", "start", "--model", "vibration", "--version", "1.1.0", "--group", "line-z", "--broker", _broker.Url);
        Assert.Equal(1, none.Code);
        Assert.StartsWith("edgectl: no device reports group 'line-z'", none.Stderr.Trim(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--devices a --group g", "give either --devices or --group")]
    [InlineData("", "give either --devices or --group")]
    [InlineData("--devices a/b", "--devices: 'a/b' is not a device id")]
    [InlineData("--devices a --waves 0,100%", "wave '0' is neither a device count")]
    [InlineData("--devices a --success-threshold 120%", "--success-threshold '120%' is outside 0%..100%")]
    [InlineData("--devices a --wave-timeout soon", "--wave-timeout 'soon' is not a duration")]
    public async Task Bad_rollout_options_are_one_line_and_exit_2_before_connecting(string extra, string message)
    {
        // No broker listens on port 1: a usage error must come first.
        var args = new List<string> { "rollout", "start", "--model", "vibration", "--version", "1.1.0", "--broker", "mqtt://127.0.0.1:1" };
        args.AddRange(extra.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var result = await Edgectl.RunAsync([.. args]);
        Assert.Equal(2, result.Code);
        Assert.StartsWith($"edgectl: {message}", result.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task Fleet_status_lists_devices_from_retained_documents()
    {
        _broker = await EmbeddedBroker.StartAsync();
        await using (var seed = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken))
        {
            await seed.PublishAsync("edgeagent/v1/devices/pump-9/status", """{"state":"offline","deviceId":"pump-9","seq":2,"reason":"shutdown"}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
            await seed.PublishAsync("edgeagent/v1/devices/pump-9/reported", """{"deviceId":"pump-9","models":[{"name":"vibration","state":"Active","version":"1.0.0","activeVersion":"1.0.0"}]}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
        }

        var json = await Edgectl.RunAsync("fleet", "status", "--broker", _broker.Url, "--json", "--wait", "2");
        Assert.True(json.Code == 0, json.Stderr);
        using var doc = JsonDocument.Parse(json.Stdout);
        var row = Assert.Single(doc.RootElement.EnumerateArray());
        Assert.Equal("pump-9", row.GetProperty("device").GetString());
        Assert.Equal("offline", row.GetProperty("state").GetString());
        Assert.False(row.GetProperty("healthy").GetBoolean());
        Assert.Equal("1.0.0", row.GetProperty("models")[0].GetProperty("activeVersion").GetString());

        var text = await Edgectl.RunAsync("fleet", "status", "--broker", _broker.Url, "--wait", "2");
        Assert.True(text.Code == 0, text.Stderr);
        Assert.Contains("1 device(s): 0 online, 1 offline, 0 stale, 0 unknown", text.Stdout, StringComparison.Ordinal);
    }

    /// <summary>
    /// No device here fetches anything: a retained stand-in on the manifest topic is enough for 'rollout start' to see
    /// that the version was published.
    /// </summary>
    private async Task PublishManifestStandInAsync()
    {
        await using var seed = await FleetConnection.ConnectAsync(_broker!.Url, cancellationToken: TestContext.Current.CancellationToken);
        await seed.PublishAsync("edgeagent/v1/bundles/vibration/1.1.0/manifest", """{"stand-in":true}"""u8.ToArray(), retain: true, TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}
