using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// The acceptance file of a bundle (<c>{"vectors":[...]}</c>, docs/bundle-format.md#acceptance): inputs with expected
/// outputs, run on the device before a model version may serve. <see cref="Parse"/> checks the structure only; whether
/// the tensors fit the model is for the serving path to say.
/// </summary>
public sealed record AcceptanceSuite(IReadOnlyList<AcceptanceVector> Vectors)
{
    public const int MaxVectors = 1000;

    /// <summary>Parses and checks an acceptance file; throws <see cref="InvalidDataException"/> with a one-line reason.</summary>
    public static AcceptanceSuite Parse(ReadOnlySpan<byte> json)
    {
        if (json.Length > BundleAcceptance.MaxFileBytes)
        {
            throw new InvalidDataException($"is {json.Length} bytes, more than {BundleAcceptance.MaxFileBytes}");
        }

        JsonDocument document;
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 64 });
            document = JsonDocument.ParseValue(ref reader);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"is not valid JSON ({FirstLine(ex.Message)})");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("vectors", out var vectors) || vectors.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException("must be a JSON object with a \"vectors\" array");
            }

            var count = vectors.GetArrayLength();
            if (count is 0 or > MaxVectors)
            {
                throw new InvalidDataException($"holds {count} vectors; 1 to {MaxVectors} are needed");
            }

            var list = new List<AcceptanceVector>(count);
            var names = new HashSet<string>(StringComparer.Ordinal);
            var index = 0;
            foreach (var vector in vectors.EnumerateArray())
            {
                var parsed = ParseVector(vector, index++);
                if (!names.Add(parsed.Name))
                {
                    throw new InvalidDataException($"vector '{parsed.Name}' appears twice");
                }

                list.Add(parsed);
            }

            return new AcceptanceSuite(list);
        }
    }

    private static AcceptanceVector ParseVector(JsonElement vector, int index)
    {
        if (vector.ValueKind != JsonValueKind.Object || !TryGetString(vector, "name", out var name) || name.Length == 0)
        {
            throw new InvalidDataException($"vector {index} needs a \"name\"");
        }

        if (!vector.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array || inputs.GetArrayLength() == 0)
        {
            throw new InvalidDataException($"vector '{name}' needs an \"inputs\" array of v2 input tensors");
        }

        var inputNames = new List<string>();
        foreach (var input in inputs.EnumerateArray())
        {
            if (input.ValueKind != JsonValueKind.Object || !TryGetString(input, "name", out var inputName))
            {
                throw new InvalidDataException($"vector '{name}': each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
            }

            if (inputNames.Contains(inputName))
            {
                throw new InvalidDataException($"vector '{name}': input '{inputName}' is given twice");
            }

            inputNames.Add(inputName);
        }

        if (!vector.TryGetProperty("outputs", out var outputs) || outputs.ValueKind != JsonValueKind.Array || outputs.GetArrayLength() == 0)
        {
            throw new InvalidDataException($"vector '{name}' needs an \"outputs\" array of expected output tensors");
        }

        var expected = new List<AcceptanceOutput>();
        foreach (var output in outputs.EnumerateArray())
        {
            expected.Add(ParseOutput(name, output, expected));
        }

        double? tolerance = null;
        if (vector.TryGetProperty("tolerance", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Number || !t.TryGetDouble(out var value) || !double.IsFinite(value) || value < 0)
            {
                throw new InvalidDataException($"vector '{name}': tolerance must be a finite number ≥ 0");
            }

            tolerance = value;
        }

        return new AcceptanceVector(name, vector.Clone(), inputNames, expected, tolerance);
    }

    private static AcceptanceOutput ParseOutput(string vector, JsonElement output, List<AcceptanceOutput> seen)
    {
        if (output.ValueKind != JsonValueKind.Object || !TryGetString(output, "name", out var name))
        {
            throw new InvalidDataException($"vector '{vector}': each expected output needs \"name\" and \"data\"");
        }

        if (seen.Exists(o => o.Name == name))
        {
            throw new InvalidDataException($"vector '{vector}': output '{name}' is expected twice");
        }

        if (!output.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"vector '{vector}': output '{name}' needs a \"data\" array");
        }

        string? datatype = null;
        if (output.TryGetProperty("datatype", out var dt) && dt.ValueKind != JsonValueKind.Null)
        {
            datatype = dt.ValueKind == JsonValueKind.String ? dt.GetString() : throw new InvalidDataException($"vector '{vector}': output '{name}' datatype must be a string");
        }

        List<long>? shape = null;
        if (output.TryGetProperty("shape", out var s) && s.ValueKind != JsonValueKind.Null)
        {
            if (s.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"vector '{vector}': output '{name}' shape must be an array of non-negative integers");
            }

            shape = [];
            foreach (var d in s.EnumerateArray())
            {
                if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt64(out var dim) || dim < 0)
                {
                    throw new InvalidDataException($"vector '{vector}': output '{name}' shape must be an array of non-negative integers");
                }

                shape.Add(dim);
            }
        }

        return new AcceptanceOutput(name, datatype, shape, data.Clone());
    }

    private static bool TryGetString(JsonElement element, string property, out string value)
    {
        if (element.TryGetProperty(property, out var p) && p.ValueKind == JsonValueKind.String)
        {
            value = p.GetString()!;
            return true;
        }

        value = string.Empty;
        return false;
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();
}
