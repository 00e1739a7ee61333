using System.Globalization;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>Temperatures from the kernel's thermal zones (<c>/sys/class/thermal/thermal_zone*/temp</c>, millidegrees Celsius).</summary>
public static class ThermalZones
{
    public const string DefaultDirectory = "/sys/class/thermal";

    /// <summary>
    /// The hottest readable zone under <paramref name="directory"/> in °C (1 decimal), or null when there is none (no
    /// such folder, as in most containers and VMs, or no zone that reads as a temperature). A zone whose read fails
    /// (some ACPI zones answer EIO) or that reports an impossible value (below absolute zero) is skipped.
    /// </summary>
    public static double? MaxCelsius(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return null;
        }

        double? max = null;
        try
        {
            // The zones are symbolic links to device folders: list entries, not only directories.
            foreach (var zone in Directory.EnumerateFileSystemEntries(directory, "thermal_zone*"))
            {
                if (Read(Path.Combine(zone, "temp")) is { } celsius && (max is null || celsius > max))
                {
                    max = celsius;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Listing failed: whatever was read so far.
        }

        return max is { } m ? Math.Round(m, 1) : null;
    }

    private static double? Read(string path)
    {
        try
        {
            if (File.Exists(path)
                && double.TryParse(File.ReadAllText(path).Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var milli)
                && double.IsFinite(milli)
                && milli > -273_150)
            {
                return milli / 1000;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Unreadable zone.
        }

        return null;
    }
}
