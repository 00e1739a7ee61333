using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// Runs Open Inference Protocol (KServe v2) JSON requests against the active session of a model: validates names,
/// datatypes, shapes and sizes against the model, runs ONNX Runtime, writes the v2 response. Every call is counted and timed.
/// </summary>
public sealed class InferenceRunner
{
    private readonly ModelCatalog _catalog;
    private readonly InferenceMeter _meter;
    private readonly IOutputObserver? _observer;

    /// <param name="observer">Sees each response's outputs (GPIO rules); asked first whether it watches the model, so a model no rule targets costs a dictionary lookup.</param>
    public InferenceRunner(ModelCatalog catalog, InferenceMeter meter, IOutputObserver? observer = null)
    {
        _catalog = catalog;
        _meter = meter;
        _observer = observer;
    }

    public void Infer(string modelName, JsonElement request, Utf8JsonWriter response)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!_catalog.TryLease(modelName, out var model) || model is null)
        {
            throw new InferenceException(404, $"model '{modelName}' is not loaded on this device");
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            var nonFinite = RunLeased(model, request, response, _observer);
            _meter.RecordSuccess(model.Name, Stopwatch.GetElapsedTime(started).TotalMicroseconds);
            if (nonFinite)
            {
                _meter.RecordNonFinite(model.Name);
            }
        }
        catch
        {
            _meter.RecordError(model.Name);
            throw;
        }
        finally
        {
            model.Release();
        }
    }

    /// <returns>True when an output held NaN or Inf.</returns>
    private static bool RunLeased(OnnxModel model, JsonElement request, Utf8JsonWriter response, IOutputObserver? observer)
    {
        var (names, values) = ReadInputs(model, request);
        try
        {
            var outputs = RequestedOutputs(model, request);
            using var results = RunModel(model, names, values, outputs);
            response.WriteStartObject();
            response.WriteString("model_name", model.Name);
            response.WriteString("model_version", model.Version);
            if (request.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
            {
                response.WriteString("id", id.GetString());
            }

            response.WriteStartArray("outputs");
            var i = 0;
            var nonFinite = false;
            foreach (var result in results)
            {
                nonFinite |= TensorWriter.Write(response, outputs[i++], result);
            }

            response.WriteEndArray();
            response.WriteEndObject();
            if (observer is not null && observer.Observes(model.Name))
            {
                observer.Observe(model.Name, outputs, results);
            }

            return nonFinite;
        }
        finally
        {
            foreach (var v in values)
            {
                v.Dispose();
            }
        }
    }

    /// <summary>
    /// Reads a v2 request's <c>inputs</c> into OrtValues, checking names, datatypes, shapes and sizes against the model and
    /// that every model input is given. The caller disposes the values; on failure none is left undisposed.
    /// </summary>
    internal static (List<string> Names, List<OrtValue> Values) ReadInputs(OnnxModel model, JsonElement request)
    {
        if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw new InferenceException("request must be a JSON object with an \"inputs\" array");
        }

        var names = new List<string>();
        var values = new List<OrtValue>();
        try
        {
            foreach (var input in inputs.EnumerateArray())
            {
                var (name, value) = ReadInput(model, input);
                values.Add(value);
                if (names.Contains(name))
                {
                    throw new InferenceException($"input '{name}' is given twice");
                }

                names.Add(name);
            }

            foreach (var expected in model.InputMetadata.Keys)
            {
                if (!names.Contains(expected))
                {
                    throw new InferenceException($"input '{expected}' is missing; model '{model.Name}' expects {Describe(model.Inputs)}");
                }
            }

            return (names, values);
        }
        catch
        {
            foreach (var v in values)
            {
                v.Dispose();
            }

            throw;
        }
    }

    internal static IDisposableReadOnlyCollection<OrtValue> RunModel(OnnxModel model, List<string> names, List<OrtValue> values, IReadOnlyList<string> outputs)
    {
        try
        {
            return model.Run(names, values, outputs);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InferenceException($"model '{model.Name}' rejected the input: {ex.Message.Split('\n', 2)[0]}");
        }
    }

    internal static IReadOnlyList<string> RequestedOutputs(OnnxModel model, JsonElement request)
    {
        if (!request.TryGetProperty("outputs", out var requested) || requested.ValueKind != JsonValueKind.Array || requested.GetArrayLength() == 0)
        {
            return model.OutputNames;
        }

        var list = new List<string>();
        foreach (var o in requested.EnumerateArray())
        {
            var name = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : null;
            if (name is null || !model.OutputNames.Contains(name))
            {
                throw new InferenceException($"requested output '{name}' does not exist; model '{model.Name}' has {string.Join(", ", model.OutputNames)}");
            }

            list.Add(name);
        }

        return list;
    }

    private static (string Name, OrtValue Value) ReadInput(OnnxModel model, JsonElement input)
    {
        if (input.ValueKind != JsonValueKind.Object
            || !input.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            throw new InferenceException("each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
        }

        var name = nameElement.GetString()!;
        if (!model.InputMetadata.TryGetValue(name, out var meta))
        {
            throw new InferenceException($"input '{name}' does not exist; model '{model.Name}' expects {Describe(model.Inputs)}");
        }

        if (!meta.IsTensor)
        {
            throw new InferenceException($"input '{name}' is a {meta.OnnxValueType}, which the JSON API cannot carry");
        }

        var expectedType = OnnxModel.DatatypeOf(meta.ElementDataType);
        if (!input.TryGetProperty("datatype", out var dt) || dt.ValueKind != JsonValueKind.String)
        {
            throw new InferenceException($"input '{name}' needs \"datatype\" ({expectedType})");
        }

        if (!string.Equals(dt.GetString(), expectedType, StringComparison.Ordinal))
        {
            throw new InferenceException($"input '{name}' has datatype {dt.GetString()}, model expects {expectedType}");
        }

        var shape = ReadShape(name, input);
        var dims = meta.Dimensions;
        if (shape.Length != dims.Length)
        {
            throw new InferenceException($"input '{name}' has shape {Shape(shape)}, model expects {Shape(dims)} (rank {dims.Length})");
        }

        for (var d = 0; d < dims.Length; d++)
        {
            if (dims[d] > 0 && shape[d] != dims[d])
            {
                throw new InferenceException($"input '{name}' has shape {Shape(shape)}, model expects {Shape(dims)} (dimension {d} must be {dims[d]})");
            }
        }

        const long MaxElements = 64L * 1024 * 1024;
        long count = 1;
        foreach (var s in shape)
        {
            count = s == 0 || count <= MaxElements / s ? count * s : MaxElements + 1;
        }

        if (count > MaxElements)
        {
            throw new InferenceException(413, $"input '{name}' shape {Shape(shape)} holds more than the {MaxElements} elements this API accepts");
        }

        if (!input.TryGetProperty("data", out var data))
        {
            throw new InferenceException($"input '{name}' has no \"data\"");
        }

        return (name, TensorReader.Read(name, meta.ElementDataType, shape, count, data));
    }

    private static long[] ReadShape(string name, JsonElement input)
    {
        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new InferenceException($"input '{name}' needs a \"shape\" array");
        }

        var shape = new long[shapeElement.GetArrayLength()];
        var i = 0;
        foreach (var s in shapeElement.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var v) || v < 0)
            {
                throw new InferenceException($"input '{name}' shape must hold non-negative integers");
            }

            shape[i++] = v;
        }

        return shape;
    }

    internal static string Shape(IEnumerable<long> dims) => "[" + string.Join(",", dims.Select(d => d < 0 ? "-1" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";

    internal static string Shape(IEnumerable<int> dims) => Shape(dims.Select(d => (long)d));

    private static string Describe(IReadOnlyList<TensorSpec> specs) =>
        string.Join(", ", specs.Select(s => $"'{s.Name}' {s.Datatype} {Shape(s.Shape)}"));
}
