namespace EdgeAgent.Core.Drift;

/// <summary>
/// What a well-formed <c>drift</c> object satisfies; a manifest whose baseline breaks a rule is refused as malformed
/// (docs/bundle-format.md#drift), so a device never builds histograms from nonsense.
/// </summary>
public static class DriftBaselineRules
{
    /// <summary>Proportions must add up to 1 within this.</summary>
    public const double SumTolerance = 1e-6;

    /// <summary>
    /// The first rule <paramref name="baseline"/> breaks, or null. Entries must name tensors among
    /// <paramref name="inputs"/> / <paramref name="outputs"/> when those are known (non-empty).
    /// </summary>
    public static string? FindViolation(DriftBaseline baseline, IReadOnlyCollection<string> inputs, IReadOnlyCollection<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(baseline);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(outputs);
        if (baseline.Samples < 1)
        {
            return $"samples {baseline.Samples} must be at least 1";
        }

        if (baseline.Bins is < 2 or > DriftBaseline.MaxBins)
        {
            return $"bins {baseline.Bins} is outside 2..{DriftBaseline.MaxBins}";
        }

        if (baseline.Features is null || baseline.Outputs is null || baseline.Features.Count + baseline.Outputs.Count > DriftBaseline.MaxDistributions)
        {
            return $"features and outputs must be lists of at most {DriftBaseline.MaxDistributions} entries together";
        }

        return CheckThresholds(baseline.Thresholds)
            ?? CheckEntries(baseline.Features, isOutput: false, inputs)
            ?? CheckEntries(baseline.Outputs, isOutput: true, outputs);
    }

    private static string? CheckThresholds(DriftThresholds? thresholds)
    {
        if (thresholds?.Psi is null || thresholds.Js is null || thresholds.Ks is null)
        {
            return "thresholds need psi, js and ks";
        }

        foreach (var (name, t) in new[] { ("psi", thresholds.Psi), ("js", thresholds.Js), ("ks", thresholds.Ks) })
        {
            if (!double.IsFinite(t.Raise) || !double.IsFinite(t.Clear) || t.Clear < 0 || t.Clear > t.Raise)
            {
                return $"threshold {name} must have 0 ≤ clear ≤ raise (got raise {t.Raise}, clear {t.Clear})";
            }
        }

        return null;
    }

    private static string? CheckEntries(IReadOnlyList<DriftDistribution> entries, bool isOutput, IReadOnlyCollection<string> tensors)
    {
        var list = isOutput ? "outputs" : "features";
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var d in entries)
        {
            if (d is null || string.IsNullOrEmpty(d.Name))
            {
                return $"every entry of {list} needs a name";
            }

            var what = $"{list} entry '{d.Name}'";
            if (!names.Add(d.Name))
            {
                return $"{what} is listed twice";
            }

            var tensor = isOutput ? d.Output : d.Input;
            if (string.IsNullOrEmpty(tensor) || (isOutput ? d.Input : d.Output) is not null)
            {
                return $"{what} must name {(isOutput ? "an output" : "an input")} (and only that)";
            }

            if (tensors.Count > 0 && !tensors.Contains(tensor))
            {
                return $"{what} measures '{tensor}', which the model does not have among its {(isOutput ? "outputs" : "inputs")}";
            }

            if (!Enum.IsDefined(d.Statistic) || (d.Statistic == DriftStatistic.Class && !isOutput))
            {
                return $"{what} has a statistic this version does not know for {list}";
            }

            if ((d.Statistic == DriftStatistic.Value) != (d.Index is not null) || d.Index < 0)
            {
                return $"{what}: statistic 'value' needs an index ≥ 0, and only it has one";
            }

            var problem = d.IsCategorical ? CheckClasses(d) : CheckEdges(d);
            if (problem is not null)
            {
                return $"{what}: {problem}";
            }

            var sum = 0.0;
            foreach (var p in d.Proportions)
            {
                if (!double.IsFinite(p) || p < 0 || p > 1)
                {
                    return $"{what}: proportions must lie in 0..1";
                }

                sum += p;
            }

            if (Math.Abs(sum - 1) > SumTolerance)
            {
                return $"{what}: proportions add up to {sum}, not 1";
            }
        }

        return null;
    }

    private static string? CheckEdges(DriftDistribution d)
    {
        if (d.Edges is null || d.Classes is not null)
        {
            return "a numeric statistic needs edges (and no classes)";
        }

        if (d.Edges.Count > DriftBaseline.MaxBins - 1)
        {
            return $"{d.Edges.Count} edges are more than {DriftBaseline.MaxBins} bins";
        }

        for (var i = 0; i < d.Edges.Count; i++)
        {
            if (!double.IsFinite(d.Edges[i]) || (i > 0 && d.Edges[i] <= d.Edges[i - 1]))
            {
                return "edges must be finite and strictly ascending";
            }
        }

        return d.Proportions is null || d.Proportions.Count != d.Edges.Count + 1
            ? $"{d.Edges.Count} edges need {d.Edges.Count + 1} proportions, got {d.Proportions?.Count ?? 0}"
            : null;
    }

    private static string? CheckClasses(DriftDistribution d)
    {
        if (d.Classes is null || d.Edges is not null || d.Classes.Count is 0 or > DriftBaseline.MaxClasses)
        {
            return $"a class statistic needs 1..{DriftBaseline.MaxClasses} classes (and no edges)";
        }

        for (var i = 1; i < d.Classes.Count; i++)
        {
            if (d.Classes[i] <= d.Classes[i - 1])
            {
                return "classes must be strictly ascending";
            }
        }

        return d.Proportions is null || d.Proportions.Count != d.Classes.Count
            ? $"{d.Classes.Count} classes need as many proportions, got {d.Proportions?.Count ?? 0}"
            : null;
    }
}
