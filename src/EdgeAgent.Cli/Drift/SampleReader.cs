using System.Globalization;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli.Drift;

/// <summary>
/// Reads drift data for a model: a CSV file (a header row naming the columns, then one sample per line with the model's
/// inputs side by side, each flattened row-major) or a .npy array shaped [rows, ...] for a model with one input.
/// Every problem is one line naming the file, and for CSV the line and column.
/// </summary>
internal static class SampleReader
{
    public static SampleTable Read(string path, IReadOnlyList<TensorSpec> inputs)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"data file not found: {path}", path);
        }

        if (inputs.Count == 0)
        {
            throw new InvalidDataException("the model declares no inputs");
        }

        foreach (var input in inputs)
        {
            if (input.Shape.Count == 0)
            {
                throw new InvalidDataException($"model input '{input.Name}' is a scalar (shape []): drift data needs inputs shaped [batch, ...]");
            }

            if (input.Shape[0] > 1)
            {
                throw new InvalidDataException($"model input '{input.Name}' has a fixed batch of {input.Shape[0]} (shape {Shape(input.Shape)}): drift data needs a batch of 1 or a dynamic one");
            }

            if (TensorValues.SizeOf(input.Datatype) == 0)
            {
                throw new InvalidDataException($"model input '{input.Name}' is {input.Datatype}, which drift data cannot feed (numbers and BOOL only)");
            }
        }

        return path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase) ? ReadNpy(path, inputs) : ReadCsv(path, inputs);
    }

    private static SampleTable ReadNpy(string path, IReadOnlyList<TensorSpec> inputs)
    {
        if (inputs.Count != 1)
        {
            throw new InvalidDataException($"{path}: a .npy file feeds a model with one input; this one has {inputs.Count} ({string.Join(", ", inputs.Select(i => i.Name))}): give a CSV with their columns side by side");
        }

        var input = inputs[0];
        var array = NpyFile.Read(path);
        if (array.Shape.Length != input.Shape.Count)
        {
            throw new InvalidDataException($"{path} has shape ({string.Join(", ", array.Shape)}), model input '{input.Name}' is {Shape(input.Shape)}: the array must be [rows, ...] with the input's rank");
        }

        for (var d = 1; d < array.Shape.Length; d++)
        {
            if (input.Shape[d] >= 0 && input.Shape[d] != array.Shape[d])
            {
                throw new InvalidDataException($"{path} has shape ({string.Join(", ", array.Shape)}), model input '{input.Name}' is {Shape(input.Shape)} (dimension {d} must be {input.Shape[d]})");
            }
        }

        var rows = checked((int)array.Shape[0]);
        if (rows == 0)
        {
            throw new InvalidDataException($"{path} has no rows");
        }

        var values = array.ToDoubles();
        var size = values.Length / rows;
        for (var i = 0; i < values.Length; i++)
        {
            try
            {
                values[i] = TensorValues.Convert(input.Datatype, values[i]);
            }
            catch (FormatException ex)
            {
                throw new InvalidDataException($"{path}: row {(i / size) + 1}, element {i % size}: {ex.Message} (input '{input.Name}' is {input.Datatype})");
            }
        }

        return new SampleTable
        {
            Path = path,
            Columns = [.. Enumerable.Range(0, size).Select(i => Core.Drift.DriftFeatureSpec.ElementName(input.Name, i))],
            NamedColumns = false,
            Inputs = [new InputLayout(input, 0, size, array.Shape[1..])],
            Rows = rows,
            Values = values,
        };
    }

    private static SampleTable ReadCsv(string path, IReadOnlyList<TensorSpec> inputs)
    {
        var layouts = new List<InputLayout>();
        var offset = 0;
        foreach (var input in inputs)
        {
            var sample = input.Shape.Skip(1).ToArray();
            if (sample.Any(d => d < 0))
            {
                throw new InvalidDataException($"model input '{input.Name}' has dynamic dimensions after the batch ({Shape(input.Shape)}): give the data as .npy, whose shape says them");
            }

            var size = checked((int)sample.Aggregate(1L, (a, b) => a * b));
            layouts.Add(new InputLayout(input, offset, size, sample));
            offset = checked(offset + size);
        }

        using var reader = new StreamReader(path);
        var header = reader.ReadLine();
        if (string.IsNullOrWhiteSpace(header))
        {
            throw new InvalidDataException($"{path} is empty (a header row naming the columns is expected first)");
        }

        var columns = header.Split(',').Select(c => c.Trim().Trim('"')).ToArray();
        if (columns.All(c => double.TryParse(c, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
        {
            throw new InvalidDataException($"{path} line 1 holds numbers: the first line must be a header naming the columns");
        }

        if (columns.FirstOrDefault(string.IsNullOrEmpty) is not null || columns.Distinct(StringComparer.Ordinal).Count() != columns.Length)
        {
            throw new InvalidDataException($"{path} line 1: every column needs a name, each name once");
        }

        if (columns.Length != offset)
        {
            throw new InvalidDataException($"{path} has {columns.Length} columns, the model takes {offset} values per sample ({string.Join(", ", layouts.Select(l => $"'{l.Name}' {l.Spec.Datatype} {Shape(l.Spec.Shape)}: {l.Size}"))})");
        }

        var values = new List<double>();
        var line = 1;
        var rows = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var fields = text.Split(',');
            if (fields.Length != columns.Length)
            {
                throw new InvalidDataException($"{path} line {line}: {fields.Length} values, the header has {columns.Length} columns");
            }

            var layout = 0;
            for (var c = 0; c < fields.Length; c++)
            {
                while (c >= layouts[layout].Offset + layouts[layout].Size)
                {
                    layout++;
                }

                var field = fields[c].Trim();
                if (!double.TryParse(field, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new InvalidDataException($"{path} line {line}, column '{columns[c]}': '{field}' is not a number");
                }

                try
                {
                    values.Add(TensorValues.Convert(layouts[layout].Spec.Datatype, value));
                }
                catch (FormatException ex)
                {
                    throw new InvalidDataException($"{path} line {line}, column '{columns[c]}': {ex.Message} (input '{layouts[layout].Name}' is {layouts[layout].Spec.Datatype})");
                }
            }

            rows++;
        }

        if (rows == 0)
        {
            throw new InvalidDataException($"{path} has a header but no rows");
        }

        return new SampleTable { Path = path, Columns = columns, NamedColumns = true, Inputs = layouts, Rows = rows, Values = [.. values] };
    }

    internal static string Shape(IEnumerable<long> shape) => $"[{string.Join(",", shape)}]";
}
