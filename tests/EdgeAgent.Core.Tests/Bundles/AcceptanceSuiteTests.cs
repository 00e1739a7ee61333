using System.Text;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class AcceptanceSuiteTests
{
    private const string Valid = """
        {"vectors":[
          {"name":"normal","inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[0.5,1.5]}],
           "outputs":[{"name":"probabilities","datatype":"FP32","shape":[1,3],"data":[[0.9,0.05,0.05]]},{"name":"label","data":[0]}]},
          {"name":"fault","tolerance":0.01,"inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[9,9]}],
           "outputs":[{"name":"label","data":[2]}]}
        ]}
        """;

    private static AcceptanceSuite Parse(string json) => AcceptanceSuite.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Valid_file_gives_vectors_with_inputs_outputs_and_tolerances()
    {
        var suite = Parse(Valid);

        Assert.Equal(["normal", "fault"], suite.Vectors.Select(v => v.Name));
        var normal = suite.Vectors[0];
        Assert.Equal(["features"], normal.InputNames);
        Assert.Null(normal.Tolerance);
        Assert.Equal(0.01, suite.Vectors[1].Tolerance);
        var probabilities = normal.Outputs[0];
        Assert.Equal("probabilities", probabilities.Name);
        Assert.Equal("FP32", probabilities.Datatype);
        Assert.Equal([1L, 3L], probabilities.Shape!);
        Assert.Null(normal.Outputs[1].Shape);
        Assert.Equal("features", normal.Request.GetProperty("inputs")[0].GetProperty("name").GetString());
    }

    [Theory]
    [InlineData("""{"vectors":[""", "is not valid JSON")]
    [InlineData("""[]""", "must be a JSON object with a \"vectors\" array")]
    [InlineData("""{"vectors":{}}""", "must be a JSON object with a \"vectors\" array")]
    [InlineData("""{"vectors":[]}""", "holds 0 vectors; 1 to 1000 are needed")]
    [InlineData("""{"vectors":[{"inputs":[],"outputs":[]}]}""", "vector 0 needs a \"name\"")]
    [InlineData("""{"vectors":[{"name":"a","outputs":[{"name":"y","data":[1]}]}]}""", "vector 'a' needs an \"inputs\" array")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"shape":[1]}],"outputs":[{"name":"y","data":[1]}]}]}""", "vector 'a': each input needs \"name\"")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"},{"name":"x"}],"outputs":[{"name":"y","data":[1]}]}]}""", "input 'x' is given twice")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"}]}]}""", "vector 'a' needs an \"outputs\" array")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"}],"outputs":[{"name":"y"}]}]}""", "output 'y' needs a \"data\" array")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"}],"outputs":[{"name":"y","data":[1]},{"name":"y","data":[1]}]}]}""", "output 'y' is expected twice")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"}],"outputs":[{"name":"y","shape":[-1],"data":[1]}]}]}""", "shape must be an array of non-negative integers")]
    [InlineData("""{"vectors":[{"name":"a","tolerance":-1,"inputs":[{"name":"x"}],"outputs":[{"name":"y","data":[1]}]}]}""", "tolerance must be a finite number")]
    [InlineData("""{"vectors":[{"name":"a","inputs":[{"name":"x"}],"outputs":[{"name":"y","data":[1]}]},{"name":"a","inputs":[{"name":"x"}],"outputs":[{"name":"y","data":[1]}]}]}""", "vector 'a' appears twice")]
    public void Malformed_file_is_refused_with_one_line(string json, string expected)
    {
        var ex = Assert.Throws<InvalidDataException>(() => Parse(json));

        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void File_over_one_mebibyte_is_refused_before_parsing()
    {
        var ex = Assert.Throws<InvalidDataException>(() => AcceptanceSuite.Parse(new byte[BundleAcceptance.MaxFileBytes + 1]));

        Assert.Contains("more than 1048576", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_than_a_thousand_vectors_are_refused()
    {
        var vector = """{"name":"v#","inputs":[{"name":"x"}],"outputs":[{"name":"y","data":[1]}]}""";
        var json = "{\"vectors\":[" + string.Join(",", Enumerable.Range(0, 1001).Select(i => vector.Replace("#", i.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal))) + "]}";

        var ex = Assert.Throws<InvalidDataException>(() => Parse(json));

        Assert.Contains("holds 1001 vectors", ex.Message, StringComparison.Ordinal);
    }
}
