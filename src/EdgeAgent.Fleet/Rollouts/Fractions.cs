using System.Globalization;

namespace EdgeAgent.Fleet.Rollouts;

/// <summary>Parses thresholds given as <c>95%</c> or <c>0.95</c> into a fraction 0..1.</summary>
public static class Fractions
{
    public static decimal Parse(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var trimmed = text.Trim();
        decimal value;
        if (trimmed.EndsWith('%') && decimal.TryParse(trimmed[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var percent))
        {
            value = percent / 100m;
        }
        else if (!decimal.TryParse(trimmed, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out value))
        {
            throw new FormatException($"{option} '{text}' is not a percentage such as 95% or a fraction such as 0.95");
        }

        if (value is < 0 or > 1)
        {
            throw new FormatException($"{option} '{text}' is outside 0%..100%");
        }

        return value;
    }

    public static string Format(decimal fraction) => $"{(fraction * 100m).ToString("0.##", CultureInfo.InvariantCulture)}%";
}
