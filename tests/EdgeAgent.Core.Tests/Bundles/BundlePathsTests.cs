using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class BundlePathsTests
{
    [Theory]
    [InlineData("model.onnx")]
    [InlineData("extra/labels.txt")]
    [InlineData("a/b/c..d")]
    public void Plain_relative_path_is_safe(string path)
    {
        Assert.True(BundlePaths.IsSafeRelative(path));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("../x")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("a/..")]
    [InlineData(".")]
    [InlineData("a/./b")]
    [InlineData("a/")]
    [InlineData("a\\b")]
    [InlineData("a\0b")]
    public void Path_that_could_escape_or_confuse_the_bundle_folder_is_unsafe(string? path)
    {
        Assert.False(BundlePaths.IsSafeRelative(path));
    }

    [Fact]
    public void Overlong_path_is_unsafe()
    {
        Assert.False(BundlePaths.IsSafeRelative(new string('a', 256)));
    }
}
