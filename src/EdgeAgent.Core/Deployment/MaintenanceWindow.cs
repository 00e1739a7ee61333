using System.Globalization;

namespace EdgeAgent.Core.Deployment;

/// <summary>A daily UTC window (<c>HH:mm-HH:mm</c>, may wrap past midnight) in which activations may happen.</summary>
public sealed record MaintenanceWindow(TimeSpan Start, TimeSpan End)
{
    public static bool TryParse(string text, out MaintenanceWindow? window)
    {
        window = null;
        var parts = (text ?? string.Empty).Split('-', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2
            || !TimeSpan.TryParseExact(parts[0], @"hh\:mm", CultureInfo.InvariantCulture, out var start)
            || !TimeSpan.TryParseExact(parts[1], @"hh\:mm", CultureInfo.InvariantCulture, out var end)
            || start == end)
        {
            return false;
        }

        window = new MaintenanceWindow(start, end);
        return true;
    }

    /// <summary>The earliest instant at or after <paramref name="now"/> inside the window.</summary>
    public DateTimeOffset NextOpen(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        var time = utc.TimeOfDay;
        var inside = Start < End ? time >= Start && time < End : time >= Start || time < End;
        if (inside)
        {
            return utc;
        }

        var today = new DateTimeOffset(utc.Date, TimeSpan.Zero) + Start;
        return today > utc ? today : today.AddDays(1);
    }

    /// <summary>When a version staged at <paramref name="now"/> may activate: after <paramref name="activateAfter"/> and inside the window.</summary>
    public static DateTimeOffset ActivationTime(DateTimeOffset now, DateTimeOffset? activateAfter, MaintenanceWindow? window)
    {
        var earliest = activateAfter is { } after && after > now ? after : now;
        return window?.NextOpen(earliest) ?? earliest;
    }
}
