using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Agent.Tests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Tests;

/// <summary>The same loop against mosquitto, the broker most users run. Skipped (visibly) where it is not installed.</summary>
public sealed class MosquittoTests
{
    [Fact]
    public async Task Whole_loop_works_against_mosquitto()
    {
        if (TestBroker.MosquittoPath() is null)
        {
            Assert.Skip("mosquitto is not installed (apt-get install mosquitto)");
        }

        var work = Directory.CreateTempSubdirectory("edgeagent-mosquitto-").FullName;
        try
        {
            await using var rig = await AgentRig.StartAsync(await TestBroker.MosquittoAsync(work));
            await rig.DeployActiveAsync();
            using var api = rig.Api();
            for (var i = 0; i < 10; i++)
            {
                Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
            }

            rig.Service<MetricsWindowService>().Flush();
            await Wait.UntilAsync(() => rig.Messages("metrics").Sum(m => m.RootElement.GetProperty("count").GetInt64()) == 10, Wait.Default, "metrics through mosquitto");
            await Wait.UntilAsync(() => rig.Messages("health").Any(), Wait.Default, "health through mosquitto");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Agent_logs_in_with_the_password_from_Mqtt_PasswordFile()
    {
        if (TestBroker.MosquittoPath() is null || !File.Exists("/usr/bin/mosquitto_passwd"))
        {
            Assert.Skip("mosquitto is not installed (apt-get install mosquitto)");
        }

        var work = Directory.CreateTempSubdirectory("edgeagent-mosquitto-auth-").FullName;
        try
        {
            // mosquitto drops to its own user when started as root: it must be able to read the password database.
            File.SetUnixFileMode(work, File.GetUnixFileMode(work) | UnixFileMode.OtherExecute | UnixFileMode.GroupExecute);
            var database = Path.Combine(work, "passwd");
            using (var passwd = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/mosquitto_passwd", ["-c", "-b", database, "dev-1", "pw-from-file"]) { UseShellExecute = false })!)
            {
                await passwd.WaitForExitAsync(TestContext.Current.CancellationToken);
                Assert.Equal(0, passwd.ExitCode);
            }

            File.SetUnixFileMode(database, File.GetUnixFileMode(database) | UnixFileMode.OtherRead | UnixFileMode.GroupRead);
            var passwordFile = Path.Combine(work, "mqtt-password");
            await File.WriteAllTextAsync(passwordFile, "pw-from-file\n", TestContext.Current.CancellationToken);
            await using var broker = await TestBroker.MosquittoAsync(work, passwordFile: database);
            var settings = new Dictionary<string, string?>
            {
                ["Agent:DeviceId"] = "dev-auth",
                ["Agent:StateDirectory"] = Path.Combine(work, "state"),
                ["Agent:ApiSocket"] = Path.Combine(work, "api.sock"),
                ["Mqtt:Url"] = broker.Url,
                ["Mqtt:MaxReconnectDelaySeconds"] = "1",
                ["Mqtt:Username"] = "dev-1",
                ["Mqtt:PasswordFile"] = passwordFile,
                ["Trust:PublicKeys:0"] = Fleet.Keys.SigningKeys.Generate(Path.Combine(work, "keys"), "release").PublicKeyPath,
            };
            await using var agent = AgentHost.Build(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), logging => logging.ClearProviders());
            await Task.Run(() => agent.StartAsync(TestContext.Current.CancellationToken), TestContext.Current.CancellationToken);
            var mqtt = agent.Services.GetRequiredService<Mqtt.MqttSession>();

            await Wait.UntilAsync(() => mqtt.IsConnected, Wait.Default, "the agent to log in with the password file");
            await agent.StopAsync(CancellationToken.None);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }
}
