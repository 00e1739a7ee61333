using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;

namespace EdgeAgent.Core;

/// <summary>A Semantic Versioning 2.0.0 version, ordered by SemVer precedence (build metadata ignored).</summary>
public sealed partial class SemVersion : IComparable<SemVersion>, IEquatable<SemVersion>
{
    private SemVersion(string text, ulong major, ulong minor, ulong patch, string[] prerelease)
    {
        Text = text;
        Major = major;
        Minor = minor;
        Patch = patch;
        Prerelease = prerelease;
    }

    public string Text { get; }

    public ulong Major { get; }

    public ulong Minor { get; }

    public ulong Patch { get; }

    public IReadOnlyList<string> Prerelease { get; }

    /// <summary>True for versions with build metadata (<c>1.0.0+build.5</c>): valid SemVer, but '+' is an MQTT wildcard, so such a version cannot name a topic.</summary>
    public bool HasBuildMetadata => Text.Contains('+', StringComparison.Ordinal);

    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool TryParse(string? text, [NotNullWhen(true)] out SemVersion? version)
    {
        version = null;
        if (string.IsNullOrEmpty(text) || text.Length > 128)
        {
            return false;
        }

        var m = Pattern().Match(text);
        if (!m.Success
            || !ulong.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var major)
            || !ulong.TryParse(m.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var minor)
            || !ulong.TryParse(m.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var patch))
        {
            return false;
        }

        var pre = m.Groups[4].Success ? m.Groups[4].Value.Split('.') : [];
        version = new SemVersion(text, major, minor, patch, pre);
        return true;
    }

    public static SemVersion Parse(string text) =>
        TryParse(text, out var v) ? v : throw new FormatException($"'{text}' is not a semantic version (e.g. 1.2.0)");

    public int CompareTo(SemVersion? other)
    {
        if (other is null)
        {
            return 1;
        }

        var c = Major.CompareTo(other.Major);
        if (c != 0)
        {
            return c;
        }

        c = Minor.CompareTo(other.Minor);
        if (c != 0)
        {
            return c;
        }

        c = Patch.CompareTo(other.Patch);
        if (c != 0)
        {
            return c;
        }

        if (Prerelease.Count == 0 || other.Prerelease.Count == 0)
        {
            // A version without pre-release identifiers has higher precedence: 1.0.0-rc.1 < 1.0.0.
            return (Prerelease.Count == 0, other.Prerelease.Count == 0) switch
            {
                (true, true) => 0,
                (true, false) => 1,
                _ => -1,
            };
        }

        for (var i = 0; i < Math.Min(Prerelease.Count, other.Prerelease.Count); i++)
        {
            c = ComparePrereleaseIdentifier(Prerelease[i], other.Prerelease[i]);
            if (c != 0)
            {
                return c;
            }
        }

        return Prerelease.Count.CompareTo(other.Prerelease.Count);
    }

    private static int ComparePrereleaseIdentifier(string a, string b)
    {
        var aNum = ulong.TryParse(a, NumberStyles.None, CultureInfo.InvariantCulture, out var an);
        var bNum = ulong.TryParse(b, NumberStyles.None, CultureInfo.InvariantCulture, out var bn);
        return (aNum, bNum) switch
        {
            (true, true) => an.CompareTo(bn),
            (true, false) => -1,
            (false, true) => 1,
            _ => string.CompareOrdinal(a, b),
        };
    }

    public bool Equals(SemVersion? other) => other is not null && CompareTo(other) == 0;

    public override bool Equals(object? obj) => obj is SemVersion v && Equals(v);

    public override int GetHashCode() => HashCode.Combine(Major, Minor, Patch, string.Join('.', Prerelease));

    public override string ToString() => Text;

    public static bool operator ==(SemVersion? left, SemVersion? right) => left is null ? right is null : left.Equals(right);

    public static bool operator !=(SemVersion? left, SemVersion? right) => !(left == right);

    public static bool operator <(SemVersion? left, SemVersion? right) => left is null ? right is not null : left.CompareTo(right) < 0;

    public static bool operator >(SemVersion? left, SemVersion? right) => left is not null && left.CompareTo(right) > 0;

    public static bool operator <=(SemVersion? left, SemVersion? right) => !(left > right);

    public static bool operator >=(SemVersion? left, SemVersion? right) => !(left < right);
}
