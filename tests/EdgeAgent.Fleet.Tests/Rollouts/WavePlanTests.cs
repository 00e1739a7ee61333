using EdgeAgent.Fleet.Rollouts;

namespace EdgeAgent.Fleet.Tests.Rollouts;

public sealed class WavePlanTests
{
    [Theory]
    [InlineData("1,10%,50%,100%", 20, new[] { 1, 2, 10, 20 })]
    [InlineData("1,10%,50%,100%", 3, new[] { 1, 2, 3 })] // 10% of 3 rounds up to 1, the same as wave 1: dropped
    [InlineData("1,10%,50%,100%", 1, new[] { 1 })]
    [InlineData("5,50", 100, new[] { 5, 50, 100 })] // a plan that stops short gets a last wave with the rest
    [InlineData("25%", 10, new[] { 3, 10 })] // 2.5 rounds up
    [InlineData("100", 4, new[] { 4 })] // counts above the total are the total
    [InlineData("1,10%,50%,100%", 1000, new[] { 1, 100, 500, 1000 })]
    [InlineData("2, 33.3%, 100%", 10, new[] { 2, 4, 10 })]
    public void Waves_are_cumulative_rounded_up_and_end_with_every_target(string spec, int total, int[] expected) =>
        Assert.Equal(expected, WavePlan.CumulativeSizes(WavePlan.Parse(spec), total));

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("0%")]
    [InlineData("101%")]
    [InlineData("ten")]
    [InlineData("1,,2")]
    [InlineData("1.5")]
    public void Bad_wave_entries_are_refused_with_their_text(string spec)
    {
        var ex = Assert.Throws<FormatException>(() => WavePlan.Parse(spec));
        Assert.Contains("wave '", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("50%,10%")]
    [InlineData("5,5")]
    [InlineData("1,10%,10%")]
    public void Waves_that_do_not_grow_are_refused(string spec)
    {
        var ex = Assert.Throws<FormatException>(() => WavePlan.Parse(spec));
        Assert.Contains("waves are cumulative", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wave_adds_the_devices_after_the_previous_wave_in_target_order()
    {
        string[] targets = ["a", "b", "c", "d", "e"];
        int[] sizes = [1, 3, 5];
        Assert.Equal(["a"], WavePlan.DevicesOf(targets, sizes, 1));
        Assert.Equal(["b", "c"], WavePlan.DevicesOf(targets, sizes, 2));
        Assert.Equal(["d", "e"], WavePlan.DevicesOf(targets, sizes, 3));
    }

    [Theory]
    [InlineData(0.95, 1, 1)]
    [InlineData(0.95, 20, 19)]
    [InlineData(0.95, 10, 10)] // 9.5 rounds up: 9 of 10 is not 95%
    [InlineData(0.5, 3, 2)]
    [InlineData(0, 5, 0)]
    [InlineData(1, 7, 7)]
    public void Required_successes_round_up(double threshold, int waveSize, int required) =>
        Assert.Equal(required, WavePlan.Required((decimal)threshold, waveSize));

    [Theory]
    [InlineData("95%", 0.95)]
    [InlineData("0.95", 0.95)]
    [InlineData("5%", 0.05)]
    [InlineData("0%", 0)]
    [InlineData("100%", 1)]
    [InlineData("12.5%", 0.125)]
    public void Thresholds_are_percentages_or_fractions(string text, double expected) =>
        Assert.Equal((decimal)expected, Fractions.Parse(text, "--x"));

    [Theory]
    [InlineData("95")]
    [InlineData("150%")]
    [InlineData("-5%")]
    [InlineData("abc")]
    public void Bad_thresholds_are_refused(string text) =>
        Assert.Throws<FormatException>(() => Fractions.Parse(text, "--x"));

    [Theory]
    [InlineData("90", 90)]
    [InlineData("30s", 30)]
    [InlineData("5m", 300)]
    [InlineData("1h30m", 5400)]
    [InlineData("500ms", 0.5)]
    [InlineData("1.5s", 1.5)]
    public void Durations_take_units(string text, double seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Durations.Parse(text, "--x"));

    [Theory]
    [InlineData("0")]
    [InlineData("5x")]
    [InlineData("m5")]
    [InlineData("1h 30m")]
    [InlineData("")]
    public void Bad_durations_are_refused(string text) =>
        Assert.Throws<FormatException>(() => Durations.Parse(text, "--x"));
}
