using EdgeAgent.Core.Deployment;

namespace EdgeAgent.Core.Tests.Deployment;

public sealed class MaintenanceWindowTests
{
    private static readonly MaintenanceWindow Night = new(TimeSpan.FromHours(2), TimeSpan.FromHours(4));
    private static readonly MaintenanceWindow Wrapping = new(TimeSpan.FromHours(22), TimeSpan.FromHours(2));

    private static DateTimeOffset Utc(int day, int hour, int minute = 0) => new(2026, 3, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public void Window_within_a_day_parses()
    {
        Assert.True(MaintenanceWindow.TryParse("02:00-04:00", out var window));
        Assert.Equal(Night, window);
    }

    [Fact]
    public void Window_wrapping_past_midnight_parses()
    {
        Assert.True(MaintenanceWindow.TryParse("22:00-02:00", out var window));
        Assert.Equal(Wrapping, window);
    }

    [Fact]
    public void Minutes_and_spaces_around_the_dash_are_accepted()
    {
        Assert.True(MaintenanceWindow.TryParse("01:30 - 03:45", out var window));
        Assert.Equal(new MaintenanceWindow(new TimeSpan(1, 30, 0), new TimeSpan(3, 45, 0)), window);
    }

    [Theory]
    [InlineData("25:00-01:00")]
    [InlineData("02:00-24:00")]
    [InlineData("02:60-04:00")]
    [InlineData("02:00")]
    [InlineData("02:00-02:00")]
    [InlineData("02:00-04:00-06:00")]
    [InlineData("0200-0400")]
    [InlineData("")]
    [InlineData("night")]
    public void Invalid_window_is_refused(string text)
    {
        Assert.False(MaintenanceWindow.TryParse(text, out var window));
        Assert.Null(window);
    }

    [Fact]
    public void Null_text_is_refused()
    {
        Assert.False(MaintenanceWindow.TryParse(null!, out var window));
        Assert.Null(window);
    }

    [Fact]
    public void Inside_the_window_it_is_open_now()
    {
        var now = Utc(1, 3, 15);

        Assert.Equal(now, Night.NextOpen(now));
    }

    [Fact]
    public void The_window_opens_at_its_start_inclusive()
    {
        Assert.Equal(Utc(1, 2), Night.NextOpen(Utc(1, 2)));
    }

    [Fact]
    public void Before_the_window_it_opens_later_the_same_day()
    {
        Assert.Equal(Utc(1, 2), Night.NextOpen(Utc(1, 0, 30)));
    }

    [Fact]
    public void After_the_window_it_opens_the_next_day()
    {
        Assert.Equal(Utc(2, 2), Night.NextOpen(Utc(1, 5)));
    }

    [Fact]
    public void At_its_end_the_window_is_closed()
    {
        Assert.Equal(Utc(2, 2), Night.NextOpen(Utc(1, 4)));
    }

    [Theory]
    [InlineData(23, 0)]
    [InlineData(22, 0)]
    [InlineData(0, 0)]
    [InlineData(1, 59)]
    public void Wrapping_window_is_open_on_both_sides_of_midnight(int hour, int minute)
    {
        var now = Utc(1, hour, minute);

        Assert.Equal(now, Wrapping.NextOpen(now));
    }

    [Fact]
    public void Wrapping_window_closed_during_the_day_opens_in_the_evening()
    {
        Assert.Equal(Utc(1, 22), Wrapping.NextOpen(Utc(1, 2)));
        Assert.Equal(Utc(1, 22), Wrapping.NextOpen(Utc(1, 12)));
    }

    [Fact]
    public void Window_is_in_utc_whatever_the_offset_of_now()
    {
        // 03:00 at +05:00 is 22:00 UTC the day before: outside 02:00-04:00 UTC.
        var now = new DateTimeOffset(2026, 3, 2, 3, 0, 0, TimeSpan.FromHours(5));

        var open = Night.NextOpen(now);

        Assert.Equal(Utc(2, 2), open);
        Assert.Equal(TimeSpan.Zero, open.Offset);
    }

    [Fact]
    public void Without_window_or_activate_after_a_version_activates_at_once()
    {
        var now = Utc(1, 12);

        Assert.Equal(now, MaintenanceWindow.ActivationTime(now, null, null));
    }

    [Fact]
    public void Activate_after_in_the_past_does_not_delay()
    {
        var now = Utc(1, 12);

        Assert.Equal(now, MaintenanceWindow.ActivationTime(now, now.AddDays(-1), null));
    }

    [Fact]
    public void Activate_after_in_the_future_is_waited_for()
    {
        var now = Utc(1, 12);

        Assert.Equal(Utc(3, 8), MaintenanceWindow.ActivationTime(now, Utc(3, 8), null));
    }

    [Fact]
    public void With_a_window_activation_waits_for_it()
    {
        Assert.Equal(Utc(2, 2), MaintenanceWindow.ActivationTime(Utc(1, 12), null, Night));
        Assert.Equal(Utc(2, 2), MaintenanceWindow.ActivationTime(Utc(1, 12), Utc(1, 1), Night));
    }

    [Fact]
    public void With_a_window_and_a_future_activate_after_the_first_window_after_it_counts()
    {
        // Not before the 3rd at 08:00, and only between 02:00 and 04:00: the 4th at 02:00.
        Assert.Equal(Utc(4, 2), MaintenanceWindow.ActivationTime(Utc(1, 12), Utc(3, 8), Night));

        // Not before the 3rd at 03:00, which is inside the window: then.
        Assert.Equal(Utc(3, 3), MaintenanceWindow.ActivationTime(Utc(1, 12), Utc(3, 3), Night));
    }

    [Fact]
    public void Inside_the_window_activation_is_immediate()
    {
        var now = Utc(1, 3);

        Assert.Equal(now, MaintenanceWindow.ActivationTime(now, null, Night));
    }
}
