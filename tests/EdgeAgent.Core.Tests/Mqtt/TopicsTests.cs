using EdgeAgent.Core.Mqtt;

namespace EdgeAgent.Core.Tests.Mqtt;

public sealed class TopicsTests
{
    [Theory]
    [InlineData("p/devices/d/cmd/+", "p/devices/d/cmd/report-now", true)]
    [InlineData("p/devices/d/cmd/+", "p/devices/d/cmd", false)]
    [InlineData("p/devices/d/cmd/+", "p/devices/d/cmd/a/b", false)]
    [InlineData("p/devices/d/cmd/+", "p/devices/e/cmd/report-now", false)]
    [InlineData("p/devices/+/status", "p/devices/d/status", true)]
    [InlineData("p/devices/d/#", "p/devices/d/cmd/x", true)]
    [InlineData("p/devices/d/#", "p/devices/d", true)] // "#" also matches the parent level
    [InlineData("p/devices/d/status", "p/devices/d/status", true)]
    public void A_filter_matches_plus_as_one_level_and_hash_as_the_rest(string filter, string topic, bool matches) =>
        Assert.Equal(matches, Topics.Matches(filter, topic));

    [Fact]
    public void Command_topics_live_under_the_device()
    {
        var topics = new Topics("edgeagent/v1/");
        Assert.Equal("edgeagent/v1/devices/dev-1/cmd/report-now", topics.Command("dev-1", "report-now"));
        Assert.Equal("edgeagent/v1/devices/dev-1/cmd/+", topics.Commands("dev-1"));
        Assert.Equal("edgeagent/v1/devices/dev-1/responses/abc", topics.CommandResponse("dev-1", "abc"));
        Assert.True(Topics.Matches(topics.Commands("dev-1"), topics.Command("dev-1", "support-bundle")));
    }

    [Theory]
    [InlineData("report-now", true)]
    [InlineData("capture_export", true)]
    [InlineData("", false)]
    [InlineData("a/b", false)]
    [InlineData("+", false)]
    [InlineData("#", false)]
    [InlineData("sp ace", false)]
    public void A_verb_is_one_topic_level_of_letters_digits_dash_and_underscore(string verb, bool valid) =>
        Assert.Equal(valid, Topics.IsVerb(verb));
}
