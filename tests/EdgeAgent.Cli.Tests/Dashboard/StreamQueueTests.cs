using EdgeAgent.Cli.Dashboard;

namespace EdgeAgent.Cli.Tests.Dashboard;

public sealed class StreamQueueTests
{
    [Fact]
    public void A_client_that_falls_behind_loses_its_queue_and_is_told_to_take_a_fresh_snapshot()
    {
        var queue = new StreamQueue(2);
        queue.Post(new DashboardEvent("device", [1]));
        queue.Post(new DashboardEvent("device", [2]));
        Assert.False(queue.TakeOverflow());
        queue.Post(new DashboardEvent("device", [3]));

        Assert.True(queue.TakeOverflow());
        Assert.False(queue.TryRead(out _));
        Assert.False(queue.TakeOverflow());

        queue.Post(new DashboardEvent("alert", [4]));
        Assert.True(queue.TryRead(out var next));
        Assert.Equal("alert", next.Name);
    }
}
