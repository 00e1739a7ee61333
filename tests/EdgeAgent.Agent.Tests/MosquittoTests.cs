using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Agent.Tests.Infrastructure;

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
}
