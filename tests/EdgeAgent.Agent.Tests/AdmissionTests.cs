using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests;

/// <summary>Overload is shed with 429 and Retry-After, a model that is not serving yet is 503; per model, bounded.</summary>
public sealed class AdmissionTests
{
    [Fact]
    public async Task A_saturated_model_answers_429_with_Retry_After_and_serves_again_when_a_turn_frees()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new()
        {
            ["Serving:MaxConcurrentRequests"] = "1",
            ["Serving:MaxQueuedRequests"] = "0",
        });
        await rig.DeployActiveAsync("1.0.0");
        using var api = rig.Api();
        var admission = rig.Service<ModelAdmission>();

        // Another request holds the model's only turn and nobody may queue.
        var held = await admission.EnterAsync("vibration", TestContext.Current.CancellationToken);
        Assert.NotNull(held);
        var (status, body, retryAfter) = await api.PostWithHeadersAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
        Assert.Equal(429, status);
        Assert.Equal(TimeSpan.FromSeconds(1), retryAfter);
        Assert.StartsWith("model 'vibration' is saturated", body.RootElement.GetProperty("error").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, admission.Shed);

        held!.Dispose();
        Assert.Equal(200, (await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest)).Status);
    }

    [Fact]
    public async Task A_request_waits_in_the_bounded_queue_for_a_turn_instead_of_failing()
    {
        using var admission = new ModelAdmission(Microsoft.Extensions.Options.Options.Create(new ServingOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 1, QueueTimeoutMilliseconds = 30_000 }));
        var first = await admission.EnterAsync("m", TestContext.Current.CancellationToken);
        Assert.NotNull(first);

        var second = admission.EnterAsync("m", TestContext.Current.CancellationToken);
        Assert.False(second.IsCompleted);

        // The queue holds one: a third is shed at once.
        Assert.Null(await admission.EnterAsync("m", TestContext.Current.CancellationToken));

        // Another model is not affected by this one's load.
        using (var other = await admission.EnterAsync("other", TestContext.Current.CancellationToken))
        {
            Assert.NotNull(other);
        }

        first!.Dispose();
        using var turn = await second;
        Assert.NotNull(turn);
        Assert.Equal(1, admission.Shed);
    }

    [Fact]
    public async Task A_model_that_is_still_being_deployed_answers_503_with_Retry_After()
    {
        await using var rig = await AgentRig.StartAsync(overrides: new() { ["Agent:FetchTimeoutSeconds"] = "60" });

        // Desired, but its bundle is not published: the device waits for the manifest.
        await rig.DeployAsync("1.0.0");
        await rig.WaitForReportedAsync("Fetching", "1.0.0");
        using var api = rig.Api();

        var (status, body, retryAfter) = await api.PostWithHeadersAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);

        Assert.Equal(503, status);
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter);
        Assert.Equal("model 'vibration' is not ready (Fetching 1.0.0)", body.RootElement.GetProperty("error").GetString());
        Assert.Equal(404, (await api.PostAsync("/v2/models/unknown/infer", AgentRig.SampleRequest)).Status);
    }
}
