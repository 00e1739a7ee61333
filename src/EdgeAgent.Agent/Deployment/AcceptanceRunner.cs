using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Staging's proof that a loaded model version may serve: runs the bundle's acceptance vectors through the serving
/// path (the same input checks and ONNX Runtime call as <c>POST /v2/models/NAME/infer</c>), compares every expected
/// output element with the tolerance, then makes the warm-up runs. Any failure is <see cref="RejectionReason.AcceptanceFailed"/>
/// with one line naming what differed (docs/bundle-format.md#acceptance-vectors).
/// </summary>
public sealed class AcceptanceRunner
{
    /// <summary>Largest zero-filled warm-up input, in elements (the local API's own limit).</summary>
    private const long MaxWarmupElements = 64L * 1024 * 1024;

    private readonly TimeProvider _time;

    public AcceptanceRunner(TimeProvider time) => _time = time;

    /// <summary>
    /// Runs the acceptance vectors and warm-up runs of <paramref name="manifest"/> on <paramref name="model"/>. The
    /// acceptance file is read from <paramref name="versionDirectory"/>, the installed (hash-verified) version folder.
    /// Throws <see cref="BundleRejectedException"/> (<c>acceptance-failed</c>) when the model fails.
    /// </summary>
    public AcceptanceResult Run(OnnxModel model, BundleManifest manifest, string versionDirectory, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(versionDirectory);
        var acceptance = manifest.Acceptance ?? new BundleAcceptance();
        var vectors = acceptance.File is { } file ? ReadSuite(manifest, file, versionDirectory).Vectors : [];
        foreach (var vector in vectors)
        {
            cancellationToken.ThrowIfCancellationRequested();
            RunVector(model, vector, vector.Tolerance ?? acceptance.Tolerance);
        }

        var mean = WarmUp(model, vectors.Count > 0 ? vectors[0] : null, acceptance.WarmupRuns, cancellationToken);
        return new AcceptanceResult(vectors.Count, acceptance.WarmupRuns, mean);
    }

    private static AcceptanceSuite ReadSuite(BundleManifest manifest, string file, string versionDirectory)
    {
        if (manifest.AcceptanceFile is null || !BundlePaths.IsSafeRelative(file))
        {
            throw Failed($"acceptance file '{file}' is not a file of the bundle");
        }

        var dir = Path.GetFullPath(versionDirectory);
        var path = Path.GetFullPath(Path.Combine(dir, file));
        if (!path.StartsWith(dir + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new BundleRejectedException(RejectionReason.UnsafePath, $"acceptance file path '{file}' escapes the bundle folder");
        }

        byte[] bytes;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            if (stream.Length > BundleAcceptance.MaxFileBytes)
            {
                throw Failed($"acceptance file '{file}' is {stream.Length} bytes, more than {BundleAcceptance.MaxFileBytes}");
            }

            bytes = new byte[stream.Length];
            stream.ReadExactly(bytes);
        }

        try
        {
            return AcceptanceSuite.Parse(bytes);
        }
        catch (InvalidDataException ex)
        {
            throw Failed($"acceptance file '{file}' {ex.Message}");
        }
    }

    private static void RunVector(OnnxModel model, AcceptanceVector vector, double tolerance)
    {
        using var context = new RunContext(model);
        IDisposableReadOnlyCollection<OrtValue> results;
        try
        {
            InferenceRunner.ReadRequest(model, context, vector.Request, default, binaryOutputs: false);
            results = InferenceRunner.RunAllocating(model, context);
        }
        catch (InferenceException ex)
        {
            throw Failed($"vector '{vector.Name}': {ex.Message}");
        }

        using (results)
        {
            for (var i = 0; i < vector.Outputs.Count; i++)
            {
                if (i >= context.RequestedCount)
                {
                    throw Failed($"vector '{vector.Name}' expects {vector.Outputs.Count} outputs, its request yields {context.RequestedCount}");
                }

                Compare(vector.Name, vector.Outputs[i], results[context.Requested[i]], tolerance);
            }
        }
    }

    private static void Compare(string vector, AcceptanceOutput expected, OrtValue got, double tolerance)
    {
        var what = $"vector '{vector}' output '{expected.Name}'";
        if (got.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            throw Failed($"{what} is a {got.OnnxType}, which acceptance cannot compare");
        }

        var info = got.GetTensorTypeAndShape();
        var datatype = OnnxModel.DatatypeOf(info.ElementDataType);
        if (expected.Datatype is not null && expected.Datatype != datatype)
        {
            throw Failed($"{what} is {datatype}, expected {expected.Datatype}");
        }

        if (expected.Shape is not null && !expected.Shape.SequenceEqual(info.Shape))
        {
            throw Failed($"{what} has shape {InferenceRunner.Shape(info.Shape)}, expected {InferenceRunner.Shape([.. expected.Shape])}");
        }

        var data = new List<JsonElement>();
        Flatten(expected.Data, data, info.ElementCount + 1);
        if (data.Count != info.ElementCount)
        {
            var given = data.Count > info.ElementCount ? "more" : data.Count.ToString(CultureInfo.InvariantCulture);
            throw Failed($"{what} has {info.ElementCount} elements, the expected data has {given}");
        }

        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                CompareReal(what, data, got.GetTensorDataAsSpan<float>(), static v => v, static v => v.ToString("R", CultureInfo.InvariantCulture), tolerance);
                break;
            case TensorElementType.Double:
                CompareReal(what, data, got.GetTensorDataAsSpan<double>(), static v => v, static v => v.ToString("R", CultureInfo.InvariantCulture), tolerance);
                break;
            case TensorElementType.Int8:
                CompareInteger(what, data, got.GetTensorDataAsSpan<sbyte>(), static v => v);
                break;
            case TensorElementType.Int16:
                CompareInteger(what, data, got.GetTensorDataAsSpan<short>(), static v => v);
                break;
            case TensorElementType.Int32:
                CompareInteger(what, data, got.GetTensorDataAsSpan<int>(), static v => v);
                break;
            case TensorElementType.Int64:
                CompareInteger(what, data, got.GetTensorDataAsSpan<long>(), static v => v);
                break;
            case TensorElementType.UInt8:
                CompareInteger(what, data, got.GetTensorDataAsSpan<byte>(), static v => v);
                break;
            case TensorElementType.UInt16:
                CompareInteger(what, data, got.GetTensorDataAsSpan<ushort>(), static v => v);
                break;
            case TensorElementType.UInt32:
                CompareInteger(what, data, got.GetTensorDataAsSpan<uint>(), static v => v);
                break;
            case TensorElementType.UInt64:
                CompareUInt64(what, data, got.GetTensorDataAsSpan<ulong>());
                break;
            case TensorElementType.Bool:
                CompareBool(what, data, got.GetTensorDataAsSpan<bool>());
                break;
            default:
                throw Failed($"{what} has element type {info.ElementDataType}, which acceptance cannot compare");
        }
    }

    /// <summary>Passes when |got − expected| ≤ tolerance · (1 + |expected|); a non-finite expected value must match exactly.</summary>
    private static void CompareReal<T>(string what, List<JsonElement> expected, ReadOnlySpan<T> got, Func<T, double> widen, Func<T, string> show, double tolerance)
    {
        for (var i = 0; i < got.Length; i++)
        {
            var e = ExpectedReal(what, i, expected[i]);
            var g = widen(got[i]);
            var ok = double.IsFinite(e)
                ? double.IsFinite(g) && Math.Abs(g - e) <= tolerance * (1 + Math.Abs(e))
                : double.IsNaN(e) ? double.IsNaN(g) : g == e;
            if (!ok)
            {
                throw Failed($"{what} element {i}: expected {Show(expected[i])}, got {show(got[i])}, tolerance {tolerance.ToString("R", CultureInfo.InvariantCulture)}");
            }
        }
    }

    private static double ExpectedReal(string what, int index, JsonElement e)
    {
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var value) && double.IsFinite(value))
        {
            return value;
        }

        if (e.ValueKind == JsonValueKind.String)
        {
            switch (e.GetString())
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }
        }

        throw Failed($"{what} element {index}: expected value {e.GetRawText()} is not a number (or \"NaN\", \"Infinity\", \"-Infinity\")");
    }

    private static void CompareInteger<T>(string what, List<JsonElement> expected, ReadOnlySpan<T> got, Func<T, long> widen)
    {
        for (var i = 0; i < got.Length; i++)
        {
            var e = expected[i];
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetInt64(out var value))
            {
                throw Failed($"{what} element {i}: expected value {e.GetRawText()} is not an integer");
            }

            var g = widen(got[i]);
            if (g != value)
            {
                throw Failed($"{what} element {i}: expected {value.ToString(CultureInfo.InvariantCulture)}, got {g.ToString(CultureInfo.InvariantCulture)}, exact");
            }
        }
    }

    private static void CompareUInt64(string what, List<JsonElement> expected, ReadOnlySpan<ulong> got)
    {
        for (var i = 0; i < got.Length; i++)
        {
            var e = expected[i];
            if (e.ValueKind != JsonValueKind.Number || !e.TryGetUInt64(out var value))
            {
                throw Failed($"{what} element {i}: expected value {e.GetRawText()} is not an unsigned integer");
            }

            if (got[i] != value)
            {
                throw Failed($"{what} element {i}: expected {value.ToString(CultureInfo.InvariantCulture)}, got {got[i].ToString(CultureInfo.InvariantCulture)}, exact");
            }
        }
    }

    private static void CompareBool(string what, List<JsonElement> expected, ReadOnlySpan<bool> got)
    {
        for (var i = 0; i < got.Length; i++)
        {
            var e = expected[i];
            if (e.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                throw Failed($"{what} element {i}: expected value {e.GetRawText()} is not true or false");
            }

            if (got[i] != (e.ValueKind == JsonValueKind.True))
            {
                throw Failed($"{what} element {i}: expected {Show(e)}, got {(got[i] ? "true" : "false")}, exact");
            }
        }
    }

    private static string Show(JsonElement e) => e.ValueKind == JsonValueKind.String ? e.GetString()! : e.GetRawText();

    /// <summary>Leaves of a nested array in row-major order, collecting no more than <paramref name="limit"/>.</summary>
    private static void Flatten(JsonElement element, List<JsonElement> into, long limit)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            into.Add(element);
            return;
        }

        foreach (var item in element.EnumerateArray())
        {
            if (into.Count >= limit)
            {
                return;
            }

            Flatten(item, into, limit);
        }
    }

    /// <summary>Makes the warm-up runs; returns their mean duration in milliseconds (0 when there are none).</summary>
    private double WarmUp(OnnxModel model, AcceptanceVector? first, int runs, CancellationToken cancellationToken)
    {
        if (runs <= 0)
        {
            return 0;
        }

        using var context = new RunContext(model);
        try
        {
            if (first is null)
            {
                ZeroInputs(model, context);
            }
            else
            {
                InferenceRunner.ReadRequest(model, context, first.Request, default, binaryOutputs: false);
            }
        }
        catch (InferenceException ex)
        {
            throw Failed($"warm-up: {ex.Message}");
        }

        var total = TimeSpan.Zero;
        for (var run = 1; run <= runs; run++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var started = _time.GetTimestamp();
            try
            {
                using var results = InferenceRunner.RunAllocating(model, context);
            }
            catch (InferenceException ex)
            {
                throw Failed($"warm-up run {run} of {runs}{(first is null ? " (zero-filled inputs)" : $" (inputs of vector '{first.Name}')")}: {ex.Message}");
            }

            total += _time.GetElapsedTime(started);
        }

        return total.TotalMilliseconds / runs;
    }

    /// <summary>Every model input filled with zeros in its declared shape, each dynamic dimension taken as 1.</summary>
    private static void ZeroInputs(OnnxModel model, RunContext context)
    {
        for (var i = 0; i < context.InputNames.Length; i++)
        {
            var name = context.InputNames[i];
            var slot = context.Inputs[i] ?? throw new InferenceException($"input '{name}' is a {model.InputMetadata[name].OnnxValueType}, which warm-up cannot fill");
            var shape = model.InputDimensions[i].Select(d => d < 0 ? 1L : d).ToArray();
            long count = 1;
            foreach (var d in shape)
            {
                count = d == 0 || count <= MaxWarmupElements / d ? count * d : MaxWarmupElements + 1;
            }

            if (count > MaxWarmupElements)
            {
                throw new InferenceException($"input '{name}' shape {InferenceRunner.Shape(shape)} holds more than the {MaxWarmupElements} elements warm-up fills");
            }

            slot.Reshape(shape, count);
            slot.Bytes.Clear();
            context.InputValues[i] = slot.Value;
        }
    }

    private static BundleRejectedException Failed(string detail) => new(RejectionReason.AcceptanceFailed, detail);
}
