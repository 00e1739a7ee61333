using System.Diagnostics;

namespace EdgeAgent.Agent.Tests;

/// <summary>Runs the real <c>edge-agent</c> executable with bad configuration: one line, exit code 2, no stack trace.</summary>
public sealed class ConfigTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-config-").FullName;

    [Theory]
    [InlineData("""{"Agent":{"StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:DeviceId is required")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"http://x"},"Trust":{"PublicKeys":["KEY"]}}""", "Mqtt:Url scheme 'http' is not supported")]
    [InlineData("""{"Agent":{"DeviceId":"dev/1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:DeviceId 'dev/1'")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["/nonexistent/release.pub.pem"]}}""", "Trust:PublicKeys:0 file not found")]
    [InlineData("""{"Agent": {"DeviceId": "dev-1",""", "is not valid JSON")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Uri":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "unknown key Mqtt:Uri")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Telemtry":{}}""", "unknown section 'Telemtry'")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":"KEY"}}""", "Trust:PublicKeys must be a list of files")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"],"Root":"KEY"}}""", "Trust:Root and Trust:PublicKeys are alternatives")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"Root":"KEY"}}""", "Trust:Root (")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK","ApiListen":"0.0.0.0:8080"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:ApiListen '0.0.0.0:8080' must be a loopback address")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Telemetry":{"WindowSeconds":"abc"}}""", "Telemetry:WindowSeconds")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Telemetry":{"OutboxMaxBytes":1000}}""", "Telemetry:OutboxMaxBytes must be between 4096 and 1099511627776")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Telemetry":{"OutboxBatchMaxBytes":100}}""", "Telemetry:OutboxBatchMaxBytes must be between 1024 and 4194304")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK","MaintenanceWindow":"2am-4am"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:MaintenanceWindow '2am-4am' is not a UTC window such as 02:00-04:00")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK","Groups":["line/a"]},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:Groups entry 'line/a'")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK","ProbationSeconds":-1},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:ProbationSeconds must be between 0 and 604800")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK","WatchdogSeconds":0},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]}}""", "Agent:WatchdogSeconds must be between 1 and 86400")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Gpio":{"Enabeld":true}}""", "unknown key Gpio:Enabeld")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Gpio":{"Rules":[{"Model":"m","Output":"label","Equals":2,"Pin":17}]}}""", "unknown key Gpio:Rules:0:Equals")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Gpio":{"StatusLedPin":17,"Rules":[{"Model":"m","Output":"p","Above":0.5,"Level":"Up","Pin":17}]}}""", "Gpio:Rules:0:Level 'Up' must be High or Low")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883"},"Trust":{"PublicKeys":["KEY"]},"Gpio":{"Inputs":[{"Pin":22,"Action":"reboot"}]}}""", "Gpio:Inputs:0:Action 'reboot' must be report-now or infer")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtts://127.0.0.1:8883","CaFile":"KEY"},"Trust":{"PublicKeys":["KEY"]}}""", "is not a PEM CA bundle (no -----BEGIN CERTIFICATE----- block)")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtts://127.0.0.1:8883","CaFile":"/nonexistent/ca.crt"},"Trust":{"PublicKeys":["KEY"]}}""", "Mqtt:CaFile file not found: /nonexistent/ca.crt")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtts://127.0.0.1:8883","ClientKeyFile":"KEY"},"Trust":{"PublicKeys":["KEY"]}}""", "Mqtt:ClientKeyFile is set without Mqtt:ClientCertificateFile")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtts://127.0.0.1:8883","ClientCertificateFile":"KEY"},"Trust":{"PublicKeys":["KEY"]}}""", "Mqtt:ClientCertificateFile (")]
    [InlineData("""{"Agent":{"DeviceId":"dev-1","StateDirectory":"STATE","ApiSocket":"SOCK"},"Mqtt":{"Url":"mqtt://127.0.0.1:1883","CaFile":"KEY"},"Trust":{"PublicKeys":["KEY"]}}""", "need a TLS broker URL (mqtts://)")]
    public async Task Bad_config_prints_one_line_naming_the_key_and_exits_2(string json, string expected)
    {
        var key = Path.Combine(_work, "release.pub.pem");
        Fleet.Keys.SigningKeys.Generate(_work, "release", overwrite: true);
        var config = Path.Combine(_work, "edge-agent.json");
        await File.WriteAllTextAsync(config, json.Replace("STATE", Path.Combine(_work, "state"), StringComparison.Ordinal).Replace("SOCK", Path.Combine(_work, "api.sock"), StringComparison.Ordinal).Replace("\"KEY\"", $"\"{key}\"", StringComparison.Ordinal), TestContext.Current.CancellationToken);

        var (code, stdout, stderr) = await RunAgentAsync("--config", config);

        Assert.Equal(2, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("config error: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Misspelt_option_is_a_usage_error_not_a_missing_config()
    {
        var (code, _, stderr) = await RunAgentAsync("--confg", "x.json");

        Assert.Equal(2, code);
        Assert.Equal("usage error: unknown argument '--confg' (usage: edge-agent --config PATH)", stderr.Trim());
    }

    [Fact]
    public async Task Missing_config_file_is_one_line_and_exit_2()
    {
        var (code, _, stderr) = await RunAgentAsync("--config", Path.Combine(_work, "nope.json"));

        Assert.Equal(2, code);
        Assert.Equal($"config error: file not found: {Path.Combine(_work, "nope.json")}", stderr.Trim());
    }

    [Fact]
    public async Task Environment_overrides_the_file()
    {
        Fleet.Keys.SigningKeys.Generate(_work, "release", overwrite: true);
        var config = Path.Combine(_work, "edge-agent.json");
        var document = new
        {
            Agent = new { DeviceId = "dev-1", StateDirectory = Path.Combine(_work, "state"), ApiSocket = Path.Combine(_work, "api.sock") },
            Mqtt = new { Url = "mqtt://127.0.0.1:1883" },
            Trust = new { PublicKeys = new[] { Path.Combine(_work, "release.pub.pem") } },
        };
        await File.WriteAllTextAsync(config, System.Text.Json.JsonSerializer.Serialize(document), TestContext.Current.CancellationToken);

        var (code, _, stderr) = await RunAgentAsync(new Dictionary<string, string> { ["EDGEAGENT__Mqtt__Url"] = "ftp://nowhere" }, "--config", config);

        Assert.Equal(2, code);
        Assert.Contains("Mqtt:Url scheme 'ftp'", stderr, StringComparison.Ordinal);
    }

    private static Task<(int Code, string Stdout, string Stderr)> RunAgentAsync(params string[] args) => RunAgentAsync(new Dictionary<string, string>(), args);

    private static async Task<(int Code, string Stdout, string Stderr)> RunAgentAsync(Dictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "edge-agent.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public void The_example_config_in_deploy_manifests_has_only_known_keys_and_valid_values()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "deploy-manifests", "edge-agent.json");

        Assert.True(AgentProgram.LoadConfiguration(path, out var configuration, out var error), error);
        var agent = Microsoft.Extensions.Configuration.ConfigurationBinder.Get<Options.AgentOptions>(configuration!.GetSection("Agent"))!;
        Assert.Equal(["line-a"], agent.Groups);
        Assert.True(Core.Deployment.MaintenanceWindow.TryParse(agent.MaintenanceWindow!, out _));
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
