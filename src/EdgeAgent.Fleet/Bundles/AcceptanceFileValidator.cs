using System.Globalization;
using System.Text.Json;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Fleet.Bundles;

/// <summary>
/// Checks an acceptance file before it is signed into a bundle: valid (<see cref="AcceptanceSuite.Parse"/>), at most
/// 1 MiB, and its vectors name exactly the model's inputs (with the model's datatypes and fixed dimensions) and only
/// outputs the model has. Whether the expected values are right is for the device to find out.
/// </summary>
public static class AcceptanceFileValidator
{
    /// <summary>Returns the parsed file; throws <see cref="InvalidDataException"/> with one line naming the file and the problem.</summary>
    public static AcceptanceSuite Check(string path, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"acceptance file not found: {path}", path);
        }

        var length = new FileInfo(path).Length;
        if (length > BundleAcceptance.MaxFileBytes)
        {
            throw new InvalidDataException($"acceptance file {path} is {length} bytes, more than {BundleAcceptance.MaxFileBytes}");
        }

        try
        {
            var suite = AcceptanceSuite.Parse(File.ReadAllBytes(path));
            foreach (var vector in suite.Vectors)
            {
                CheckVector(vector, inputs, outputs);
            }

            return suite;
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"acceptance file {path}: {ex.Message}", ex);
        }
    }

    private static void CheckVector(AcceptanceVector vector, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        foreach (var input in vector.Request.GetProperty("inputs").EnumerateArray())
        {
            var name = input.GetProperty("name").GetString()!;
            var spec = inputs.FirstOrDefault(s => s.Name == name)
                ?? throw new InvalidDataException($"vector '{vector.Name}': input '{name}' is not an input of the model (it has {Describe(inputs)})");
            if (!input.TryGetProperty("datatype", out var datatype) || datatype.ValueKind != JsonValueKind.String || datatype.GetString() != spec.Datatype)
            {
                throw new InvalidDataException($"vector '{vector.Name}': input '{name}' needs datatype {spec.Datatype}");
            }

            if (!FitsShape(input, spec.Shape))
            {
                throw new InvalidDataException($"vector '{vector.Name}': input '{name}' needs a shape that fits {Shape(spec.Shape)}");
            }
        }

        foreach (var spec in inputs)
        {
            if (!vector.InputNames.Contains(spec.Name))
            {
                throw new InvalidDataException($"vector '{vector.Name}': input '{spec.Name}' is missing (the model has {Describe(inputs)})");
            }
        }

        foreach (var output in vector.Outputs)
        {
            var spec = outputs.FirstOrDefault(s => s.Name == output.Name)
                ?? throw new InvalidDataException($"vector '{vector.Name}': output '{output.Name}' is not an output of the model (it has {Describe(outputs)})");
            if (output.Datatype is not null && output.Datatype != spec.Datatype)
            {
                throw new InvalidDataException($"vector '{vector.Name}': output '{output.Name}' is {spec.Datatype} in the model, not {output.Datatype}");
            }
        }
    }

    private static bool FitsShape(JsonElement input, IReadOnlyList<long> dims)
    {
        if (!input.TryGetProperty("shape", out var shape) || shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() != dims.Count)
        {
            return false;
        }

        var d = 0;
        foreach (var s in shape.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var value) || value < 0 || (dims[d] > 0 && value != dims[d]))
            {
                return false;
            }

            d++;
        }

        return true;
    }

    private static string Describe(IReadOnlyList<TensorSpec> specs) => string.Join(", ", specs.Select(s => $"'{s.Name}' {s.Datatype} {Shape(s.Shape)}"));

    private static string Shape(IReadOnlyList<long> dims) => "[" + string.Join(",", dims.Select(d => d < 0 ? "-1" : d.ToString(CultureInfo.InvariantCulture))) + "]";
}
