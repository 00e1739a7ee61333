using System.Text.Json;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Cli.Tests;

/// <summary><c>edgectl deploy</c> to a group, with probation and an activation time, and removing a model.</summary>
public sealed class DeployCommandTests : IAsyncDisposable
{
    private EmbeddedBroker? _broker;

    [Fact]
    public async Task Deploy_writes_group_and_device_documents_with_options_and_removes_a_model()
    {
        _broker = await EmbeddedBroker.StartAsync();
        var group = await Edgectl.RunAsync("deploy", "--group", "line-a", "--model", "vibration", "--version", "1.2.0", "--probation", "5m", "--activate-after", "2026-11-28T02:00:00Z", "--broker", _broker.Url, "--json");
        Assert.True(group.Code == 0, group.Stderr);
        await using var observer = await FleetConnection.ConnectAsync(_broker.Url, cancellationToken: TestContext.Current.CancellationToken);
        var retained = await observer.ReadRetainedAsync("edgeagent/v1/groups/line-a/desired", TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        using (var doc = JsonDocument.Parse(retained!))
        {
            var entry = doc.RootElement.GetProperty("models")[0];
            Assert.Equal("1.2.0", entry.GetProperty("version").GetString());
            Assert.Equal(300, entry.GetProperty("probationSeconds").GetInt32());
            Assert.Equal(new DateTimeOffset(2026, 11, 28, 2, 0, 0, TimeSpan.Zero), entry.GetProperty("activateAfter").GetDateTimeOffset());
        }

        Assert.Equal(0, (await Edgectl.RunAsync("deploy", "--device", "d-1", "--model", "vibration", "--version", "1.0.0", "--broker", _broker.Url)).Code);
        Assert.Equal(0, (await Edgectl.RunAsync("deploy", "--device", "d-1", "--model", "pump", "--version", "2.0.0", "--broker", _broker.Url)).Code);
        var removed = await Edgectl.RunAsync("deploy", "--device", "d-1", "--model", "vibration", "--remove", "--broker", _broker.Url);
        Assert.True(removed.Code == 0, removed.Stderr);
        Assert.Contains("desired state of d-1: pump 2.0.0", removed.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("give exactly one of --device ID and --group NAME", "--model", "m", "--version", "1.0.0")]
    [InlineData("give exactly one of --device ID and --group NAME", "--device", "d", "--group", "g", "--model", "m", "--version", "1.0.0")]
    [InlineData("--version is required (or --remove)", "--device", "d", "--model", "m")]
    [InlineData("--remove takes no --version", "--device", "d", "--model", "m", "--version", "1.0.0", "--remove")]
    [InlineData("--activate-after 'tomorrow' is not an ISO 8601 time", "--group", "g", "--model", "m", "--version", "1.0.0", "--activate-after", "tomorrow")]
    public async Task Bad_deploy_arguments_are_one_line_and_exit_2_before_connecting(string expected, params string[] args)
    {
        var result = await Edgectl.RunAsync(["deploy", .. args, "--broker", "mqtt://127.0.0.1:1"]);

        Assert.Equal(2, result.Code);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Theory]
    [InlineData("--ca-file, --cert and --key need an mqtts:// --broker", "mqtt://127.0.0.1:1", "--ca-file", "/nonexistent/ca.crt")]
    [InlineData("--key is given without --cert", "mqtts://127.0.0.1:1", "--key", "/nonexistent/dev.key")]
    [InlineData("--ca-file file not found: /nonexistent/ca.crt", "mqtts://127.0.0.1:1", "--ca-file", "/nonexistent/ca.crt")]
    public async Task Bad_broker_TLS_files_are_one_line_and_exit_2_before_connecting(string expected, string broker, params string[] tls)
    {
        var result = await Edgectl.RunAsync(["deploy", "--device", "d-1", "--model", "m", "--version", "1.0.0", "--broker", broker, .. tls]);

        Assert.Equal(2, result.Code);
        Assert.Contains(expected, result.Stderr, StringComparison.Ordinal);
        Assert.Single(result.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public async Task A_CA_file_that_is_not_PEM_is_refused_in_one_line()
    {
        var notPem = Path.GetTempFileName();
        try
        {
            await File.WriteAllTextAsync(notPem, "not a certificate", TestContext.Current.CancellationToken);
            var result = await Edgectl.RunAsync("deploy", "--device", "d-1", "--model", "m", "--version", "1.0.0", "--broker", "mqtts://127.0.0.1:1", "--ca-file", notPem);

            Assert.Equal(2, result.Code);
            Assert.Contains("is not a PEM CA bundle", result.Stderr, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(notPem);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_broker is not null)
        {
            await _broker.DisposeAsync();
        }
    }
}
