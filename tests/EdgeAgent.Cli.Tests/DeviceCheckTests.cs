using System.Text.Json;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl check</c>'s device checks (config, state directory, disk, trust root, systemd, clock) and <c>edgectl logs</c>.</summary>
public sealed class DeviceCheckTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-check-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact]
    public async Task Check_without_a_running_agent_still_checks_the_device_and_names_each_problem()
    {
        var state = Directory.CreateDirectory(Path.Combine(_work, "state")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(state, "model.onnx"), new byte[3 * 1024 * 1024], TestContext.Current.CancellationToken);
        var keys = Path.Combine(_work, "keys");
        Assert.Equal(0, (await Edgectl.RunAsync("keys", "generate", "--out", keys)).Code);
        var root = Path.Combine(_work, "root.json");
        var rotate = await Edgectl.RunAsync("keys", "rotate", "--key", Path.Combine(keys, "release.pub.pem"), "--sign", Path.Combine(keys, "release.key.pem"), "--expires-days", "10", "--out", root);
        Assert.True(rotate.Code == 0, rotate.Stderr);
        var config = Path.Combine(_work, "edge-agent.json");
        await File.WriteAllTextAsync(config, JsonSerializer.Serialize(new
        {
            Agent = new { DeviceId = "pump-17", StateDirectory = state, DiskBudgetMegabytes = 2 },
            Mqtt = new { Url = "mqtt://127.0.0.1:1" },
            Trust = new { Root = root },
        }), TestContext.Current.CancellationToken);

        var check = await Edgectl.RunAsync("check", "--config", config, "--socket", Path.Combine(_work, "api.sock"), "--json");

        Assert.True(check.Code == 4, check.Stdout + check.Stderr);
        using var result = JsonDocument.Parse(check.Stdout);
        var checks = result.RootElement.GetProperty("checks").EnumerateArray().ToDictionary(c => c.GetProperty("name").GetString()!, c => (Status: c.GetProperty("status").GetString(), Detail: c.GetProperty("detail").GetString()!));
        Assert.False(result.RootElement.GetProperty("ok").GetBoolean());
        Assert.Equal("ok", checks["config"].Status);
        Assert.Equal("fail", checks["agent"].Status);
        Assert.Equal("ok", checks["state directory"].Status);
        Assert.Equal("fail", checks["disk"].Status);
        Assert.Contains("of its 2 MiB budget", checks["disk"].Detail, StringComparison.Ordinal);
        Assert.Equal("warn", checks["trust root"].Status);
        Assert.Contains("expires in", checks["trust root"].Detail, StringComparison.Ordinal);
        Assert.Equal("ok", checks["clock"].Status);
        var init = File.ReadAllText("/proc/1/comm").Trim();
        if (init != "systemd")
        {
            Assert.Equal("ok", checks["systemd unit"].Status);
            Assert.StartsWith("not under systemd", checks["systemd unit"].Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Check_with_a_broken_config_file_fails_that_check_with_the_reason()
    {
        var config = Path.Combine(_work, "edge-agent.json");
        await File.WriteAllTextAsync(config, """{ "Agent": { "DeviceId": "pump-17", "StateDirectroy": "/tmp" } }""", TestContext.Current.CancellationToken);

        var check = await Edgectl.RunAsync("check", "--config", config, "--socket", Path.Combine(_work, "api.sock"));

        Assert.Equal(4, check.Code);
        Assert.Contains("FAIL config: unknown key Agent:StateDirectroy", check.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logs_asks_journalctl_for_the_agent_unit_with_the_options_given()
    {
        var bin = Directory.CreateDirectory(Path.Combine(_work, "bin")).FullName;
        var journalctl = Path.Combine(bin, "journalctl");
        await File.WriteAllTextAsync(journalctl, "#!/bin/sh\necho \"journalctl $*\"\nexit 3\n", TestContext.Current.CancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(journalctl, UnixFileMode.UserRead | UnixFileMode.UserExecute);
        }

        var logs = await Edgectl.RunAsync(TimeSpan.FromSeconds(60), new Dictionary<string, string?> { ["PATH"] = bin }, "logs", "-n", "50", "--since", "-1h", "-f");

        Assert.Equal(3, logs.Code);
        Assert.Equal("journalctl --unit edge-agent --no-pager --output short-iso --lines 50 --since -1h --follow", logs.Stdout.Trim());
    }

    [Fact]
    public async Task Logs_without_journalctl_says_so_and_exits_9()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_work, "empty")).FullName;

        var logs = await Edgectl.RunAsync(TimeSpan.FromSeconds(60), new Dictionary<string, string?> { ["PATH"] = empty }, "logs");

        Assert.Equal(9, logs.Code);
        Assert.StartsWith("edgectl: journalctl not found", logs.Stderr, StringComparison.Ordinal);
    }
}
