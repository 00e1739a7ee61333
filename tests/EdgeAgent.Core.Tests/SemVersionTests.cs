namespace EdgeAgent.Core.Tests;

public sealed class SemVersionTests
{
    [Theory]
    [InlineData("0.0.0", 0UL, 0UL, 0UL)]
    [InlineData("1.2.3", 1UL, 2UL, 3UL)]
    [InlineData("10.20.30", 10UL, 20UL, 30UL)]
    [InlineData("1.0.0-alpha", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0-alpha.1", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0-0.3.7", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0-x.7.z.92", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0-x-y-z.--", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0+20130313144700", 1UL, 0UL, 0UL)]
    [InlineData("1.0.0-beta+exp.sha.5114f85", 1UL, 0UL, 0UL)]
    [InlineData("18446744073709551615.0.0", ulong.MaxValue, 0UL, 0UL)]
    public void Valid_versions_parse_into_their_parts(string text, ulong major, ulong minor, ulong patch)
    {
        Assert.True(SemVersion.TryParse(text, out var version));
        Assert.Equal(major, version.Major);
        Assert.Equal(minor, version.Minor);
        Assert.Equal(patch, version.Patch);
        Assert.Equal(text, version.ToString());
    }

    [Fact]
    public void Prerelease_identifiers_are_split_on_dots_and_build_metadata_is_not_one_of_them()
    {
        var version = SemVersion.Parse("1.0.0-rc.1+build.7");

        Assert.Equal(["rc", "1"], version.Prerelease);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("1")]
    [InlineData("1.2")]
    [InlineData("1.2.3.4")]
    [InlineData("v1.2.3")]
    [InlineData(" 1.2.3")]
    [InlineData("1.2.3 ")]
    [InlineData("01.2.3")]
    [InlineData("1.02.3")]
    [InlineData("1.2.03")]
    [InlineData("-1.2.3")]
    [InlineData("1.2.3-")]
    [InlineData("1.2.3-01")]
    [InlineData("1.2.3-alpha..1")]
    [InlineData("1.2.3+")]
    [InlineData("1.2.3+build..1")]
    [InlineData("1.2.3-alpha_1")]
    [InlineData("18446744073709551616.0.0")]
    public void Invalid_versions_are_refused(string? text)
    {
        Assert.False(SemVersion.TryParse(text, out var version));
        Assert.Null(version);
    }

    [Fact]
    public void Overlong_version_text_is_refused()
    {
        var text = "1.0.0-" + new string('a', 200);

        Assert.False(SemVersion.TryParse(text, out _));
    }

    [Fact]
    public void Version_with_a_trailing_newline_is_refused()
    {
        Assert.False(SemVersion.TryParse("1.0.0\n", out _));
    }

    [Fact]
    public void Parse_names_the_bad_text_in_its_error()
    {
        var ex = Assert.Throws<FormatException>(() => SemVersion.Parse("1.0"));

        Assert.Contains("'1.0'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Versions_sort_by_semver_precedence_including_prerelease()
    {
        // The chain from semver.org section 11, plus numeric (not textual) ordering of each part.
        string[] expected =
        [
            "0.9.9", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2",
            "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.2.0", "1.10.0", "2.0.0",
        ];
        var shuffled = expected.Reverse().Select(SemVersion.Parse).ToList();
        shuffled.Sort();

        Assert.Equal(expected, shuffled.Select(v => v.ToString()));
    }

    [Theory]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-alpha.1", "1.0.0-beta")]
    [InlineData("1.0.0-beta", "1.0.0-rc.1")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("1.0.0-2", "1.0.0-10")]
    [InlineData("1.0.0-999", "1.0.0-alpha")]
    [InlineData("1.9.0", "1.10.0")]
    public void Earlier_version_compares_lower_with_every_operator(string lower, string higher)
    {
        var a = SemVersion.Parse(lower);
        var b = SemVersion.Parse(higher);

        Assert.True(a.CompareTo(b) < 0);
        Assert.True(b.CompareTo(a) > 0);
        Assert.True(a < b);
        Assert.True(a <= b);
        Assert.True(b > a);
        Assert.True(b >= a);
        Assert.False(a == b);
        Assert.True(a != b);
    }

    [Fact]
    public void Build_metadata_is_ignored_for_precedence_and_equality()
    {
        var a = SemVersion.Parse("1.0.0+build.1");
        var b = SemVersion.Parse("1.0.0+build.2");
        var plain = SemVersion.Parse("1.0.0");

        Assert.Equal(0, a.CompareTo(b));
        Assert.True(a == b);
        Assert.Equal(plain, a);
        Assert.Equal(plain.GetHashCode(), a.GetHashCode());
        Assert.Single(new HashSet<SemVersion> { a, b, plain });
        Assert.True(SemVersion.Parse("1.0.0-rc.1+build.9") < plain);
    }

    [Fact]
    public void Any_version_is_greater_than_null()
    {
        var v = SemVersion.Parse("0.0.0");

        Assert.True(v > null);
        Assert.True(null < v);
        Assert.Equal(1, v.CompareTo(null));
    }
}
