using System.Text.RegularExpressions;

namespace EdgeAgent.Core.Mqtt;

/// <summary>A device id names topics, so it may hold only letters, digits, '.', '_' and '-' (no '/', '+' or '#').</summary>
public static partial class DeviceIds
{
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string? id) => id is not null && Pattern().IsMatch(id);
}
