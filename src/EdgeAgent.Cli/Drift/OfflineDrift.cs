using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Cli.Drift;

/// <summary>
/// The offline side of drift: building a bundle's baseline from data (<c>bundle create --baseline</c>) and comparing
/// data against it (<c>drift compare</c>) with the same Core code a device runs.
/// </summary>
internal static class OfflineDrift
{
    /// <summary>A float output with at most this many values per sample is monitored value by value, a larger one by mean and std.</summary>
    public const int MaxOutputValues = 16;

    public sealed record Baseline(DriftBaseline Drift, IReadOnlyList<string> Notes);

    public sealed record Comparison(DriftWindowReport Report, int Rows, IReadOnlyList<string> Notes);

    /// <summary>The baseline of <paramref name="dataPath"/>'s rows for the model at <paramref name="modelPath"/>.</summary>
    public static Baseline CreateBaseline(string modelPath, string dataPath, IReadOnlyList<string>? features, int bins)
    {
        if (bins is < 2 or > DriftBaseline.MaxBins)
        {
            throw new ArgumentException($"--baseline-bins {bins} is outside 2..{DriftBaseline.MaxBins}");
        }

        using var model = new OfflineModel(modelPath);
        var table = SampleReader.Read(dataPath, model.Inputs);
        var specs = FeatureSelection.Resolve(features, table);
        var notes = new List<string>();
        var featureEntries = new List<DriftDistribution>();
        var values = new double[table.Rows];
        foreach (var spec in specs)
        {
            var input = table.Inputs.First(l => l.Name == spec.Tensor);
            for (var r = 0; r < table.Rows; r++)
            {
                values[r] = spec.Measure(table.Sample(r, input));
            }

            featureEntries.Add(Build(spec, values, bins, dataPath));
        }

        var outputEntries = new List<DriftDistribution>();
        foreach (var output in model.Run(table))
        {
            if (output.Values is null)
            {
                notes.Add($"output '{output.Name}' is not monitored: {output.Skipped}");
                continue;
            }

            if (!TensorValues.IsFloat(output.Spec.Datatype))
            {
                var spec = new DriftFeatureSpec(output.Name, output.Name, IsOutput: true, null, DriftStatistic.Class);
                var distinct = output.Values.Distinct().Count();
                if (distinct > DriftBaseline.MaxClasses)
                {
                    notes.Add($"output '{output.Name}' is not monitored: it takes {distinct} distinct values, more than {DriftBaseline.MaxClasses} classes");
                    continue;
                }

                outputEntries.Add(Build(spec, output.Values, bins, dataPath));
                continue;
            }

            IEnumerable<DriftFeatureSpec> outputSpecs = output.PerSample <= MaxOutputValues
                ? Enumerable.Range(0, output.PerSample).Select(i => new DriftFeatureSpec(DriftFeatureSpec.ElementName(output.Name, i), output.Name, IsOutput: true, i, DriftStatistic.Value))
                : [.. new[] { DriftStatistic.Mean, DriftStatistic.Std }.Select(s => new DriftFeatureSpec(DriftFeatureSpec.SummaryName(output.Name, s), output.Name, IsOutput: true, null, s))];
            foreach (var spec in outputSpecs)
            {
                for (var r = 0; r < table.Rows; r++)
                {
                    values[r] = spec.Measure(output.Sample(r));
                }

                outputEntries.Add(Build(spec, values, bins, dataPath));
            }
        }

        var drift = new DriftBaseline { Samples = table.Rows, Bins = bins, Features = featureEntries, Outputs = outputEntries };
        return new Baseline(drift, notes);
    }

    /// <summary>The statistics of <paramref name="dataPath"/>'s rows against the manifest's baseline, as one window.</summary>
    public static Comparison Compare(BundleManifest manifest, string modelPath, string dataPath, int minSamples)
    {
        var baseline = manifest.Drift ?? throw new InvalidDataException($"{manifest.Name} {manifest.Version} carries no drift baseline (build the bundle with 'edgectl bundle create --baseline DATA')");
        using var model = new OfflineModel(modelPath);
        var table = SampleReader.Read(dataPath, model.Inputs);
        var recorder = new DriftRecorder(baseline);
        var notes = new List<string>();
        CheckColumns(baseline, table);
        foreach (var input in table.Inputs)
        {
            if (recorder.Input(input.Name) is { } tap)
            {
                for (var r = 0; r < table.Rows; r++)
                {
                    tap.AddSample(table.Sample(r, input));
                }
            }
        }

        if (baseline.Outputs.Count > 0)
        {
            foreach (var output in model.Run(table))
            {
                if (recorder.Output(output.Name) is not { } tap)
                {
                    continue;
                }

                if (output.Values is null)
                {
                    notes.Add($"output '{output.Name}' cannot be compared: {output.Skipped}");
                    continue;
                }

                for (var r = 0; r < table.Rows; r++)
                {
                    tap.AddSample(output.Sample(r));
                }
            }
        }

        var report = new DriftTracker(baseline, minSamples).Evaluate(recorder.TakeWindow());
        return new Comparison(report, table.Rows, notes);
    }

    /// <summary>Each value feature must read an element the data has, and a CSV column with the baseline's name for it when it was named by one.</summary>
    private static void CheckColumns(DriftBaseline baseline, SampleTable table)
    {
        foreach (var feature in baseline.Features)
        {
            var input = table.Inputs.FirstOrDefault(l => l.Name == feature.Input)
                ?? throw new InvalidDataException($"baseline feature '{feature.Name}' measures input '{feature.Input}', which the model does not have");
            if (feature.Index is not { } index)
            {
                continue;
            }

            if (index >= input.Size)
            {
                throw new InvalidDataException($"baseline feature '{feature.Name}' is element {index} of input '{input.Name}'; {table.Path} has {input.Size} per sample");
            }

            var column = table.Columns[input.Offset + index];
            if (table.NamedColumns && feature.Name != column && feature.Name != DriftFeatureSpec.ElementName(input.Name, index))
            {
                throw new InvalidDataException($"{table.Path}: column {input.Offset + index + 1} is '{column}' where the baseline has '{feature.Name}'; the columns must come in the baseline's order");
            }
        }
    }

    private static DriftDistribution Build(DriftFeatureSpec spec, double[] values, int bins, string dataPath)
    {
        try
        {
            return DriftBaselineBuilder.Build(spec, values, bins);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{dataPath}: cannot build the baseline of '{spec.Name}': {ex.Message}");
        }
    }
}
