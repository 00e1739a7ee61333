using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>Parses durations such as <c>90</c> (seconds), <c>30s</c>, <c>5m</c>, <c>1h30m</c>, <c>500ms</c>.</summary>
public static partial class Durations
{
    [GeneratedRegex(@"\G(\d+(?:\.\d+)?)(ms|s|m|h|d)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();

    public static TimeSpan Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        if (double.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
        {
            return Positive(TimeSpan.FromSeconds(seconds), text, option);
        }

        var total = TimeSpan.Zero;
        var at = 0;
        foreach (Match m in Part().Matches(trimmed))
        {
            var value = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(value),
                "s" => TimeSpan.FromSeconds(value),
                "m" => TimeSpan.FromMinutes(value),
                "h" => TimeSpan.FromHours(value),
                _ => TimeSpan.FromDays(value),
            };
            at = m.Index + m.Length;
        }

        if (at == 0 || at != trimmed.Length)
        {
            throw new FormatException($"{option} '{text}' is not a duration such as 90, 30s, 5m or 1h30m");
        }

        return Positive(total, text, option);
    }

    private static TimeSpan Positive(TimeSpan value, string text, string option) =>
        value > TimeSpan.Zero ? value : throw new FormatException($"{option} '{text}' must be longer than zero");
}
