namespace EdgeAgent.Cli.Drift;

/// <summary>
/// Rows of model input data read from a CSV or .npy file: one sample per row, the model's inputs side by side (each
/// flattened row-major), every value already converted to its input's datatype.
/// </summary>
internal sealed class SampleTable
{
    public required string Path { get; init; }

    /// <summary>A name per column: the CSV header, or <c>input[i]</c> for a .npy file.</summary>
    public required IReadOnlyList<string> Columns { get; init; }

    /// <summary>True when the column names came from a CSV header.</summary>
    public required bool NamedColumns { get; init; }

    public required IReadOnlyList<InputLayout> Inputs { get; init; }

    public required int Rows { get; init; }

    /// <summary>Rows × <see cref="Width"/> values, row-major.</summary>
    public required double[] Values { get; init; }

    public int Width => Columns.Count;

    /// <summary>The values of one input in one row.</summary>
    public ReadOnlySpan<double> Sample(int row, InputLayout input) => Values.AsSpan((row * Width) + input.Offset, input.Size);
}
