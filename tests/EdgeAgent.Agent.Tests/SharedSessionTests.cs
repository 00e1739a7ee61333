using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeAgent.Agent.Tests;

/// <summary>Two real agents in one process with a <see cref="SharedSessionLoader"/>: one ONNX Runtime session per model file.</summary>
public sealed class SharedSessionTests
{
    [Fact]
    public async Task Two_agents_share_one_session_and_one_moving_on_leaves_the_other_serving()
    {
        var loader = new SharedSessionLoader();
        await using var broker = await TestBroker.EmbeddedAsync();
        await using var a = await AgentRig.StartAsync(broker, startAgent: false, deviceId: "dev-a", ownsBroker: false);
        await using var b = await AgentRig.StartAsync(broker, startAgent: false, deviceId: "dev-b", ownsBroker: false);
        foreach (var rig in new[] { a, b })
        {
            rig.Configure = services => services.AddSingleton<IModelLoader>(loader);
            await rig.StartAgentAsync();
        }

        // Both devices install the sample model (each bundle signed with its own key): one real load, one shared.
        await a.DeployActiveAsync("1.0.0");
        await b.DeployActiveAsync("1.0.0");
        Assert.Equal(1, loader.SessionsCreated);
        Assert.Equal(1, loader.OpenSessions);
        Assert.True(a.Service<ModelCatalog>().TryGet("vibration", out var modelA));
        Assert.True(b.Service<ModelCatalog>().TryGet("vibration", out var modelB));
        Assert.NotSame(modelA, modelB);

        // dev-a moves to a byte-different model: a second session; dev-b's model still serves from the first.
        await a.DeployActiveAsync("1.1.0", variant: 1);
        Assert.Equal(2, loader.SessionsCreated);
        using (var api = b.Api())
        {
            for (var i = 0; i < 3; i++)
            {
                var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
                Assert.True(status == 200, body.RootElement.ToString());
            }
        }

        // dev-b moves to the same variant: it shares dev-a's new session, and the last user of the first one disposed it.
        await b.DeployActiveAsync("1.1.0", variant: 1);
        Assert.Equal(2, loader.SessionsCreated);
        await Wait.UntilAsync(() => loader.OpenSessions == 1, Wait.Default, "the first session to be disposed");
        using (var api = a.Api())
        {
            Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
        }
    }
}
