using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// Runs Open Inference Protocol (KServe v2) requests against the active session of a model: validates names,
/// datatypes, shapes and sizes against the model, runs ONNX Runtime, writes the v2 response. JSON tensors and Triton's
/// binary tensor extension are both accepted. Every call is counted and timed.
/// </summary>
/// <remarks>
/// The hot path allocates nothing for a stream of same-shaped requests: inputs are read into pooled, pinned buffers
/// (<see cref="RunContext"/>), outputs go into buffers sized by an earlier run with the same input shapes, names are
/// matched on the request's UTF-8 bytes. A new input shape costs one ORT-allocated run that sizes the output buffers.
/// </remarks>
public sealed class InferenceRunner
{
    private const int MaxRank = 32;
    private const long MaxElements = 64L * 1024 * 1024;
    private readonly ModelCatalog _catalog;
    private readonly InferenceMeter _meter;
    private readonly IOutputObserver? _observer;
    private readonly IInferenceTap[] _taps;

    /// <param name="observer">Sees each response's outputs (GPIO rules); asked first whether it watches the model, so a model no rule targets costs a dictionary lookup.</param>
    /// <param name="taps">See each served request's inputs and outputs (drift accounting, data capture), each asked first whether it watches the model.</param>
    public InferenceRunner(ModelCatalog catalog, InferenceMeter meter, IOutputObserver? observer = null, IEnumerable<IInferenceTap>? taps = null)
    {
        _catalog = catalog;
        _meter = meter;
        _observer = observer;
        _taps = taps?.ToArray() ?? [];
    }

    /// <summary>Runs a JSON-only request (no binary tensor data in or out).</summary>
    public void Infer(string modelName, JsonElement request, Utf8JsonWriter response) => Infer(modelName, request, default, response, null);

    /// <summary>Runs a request.</summary>
    /// <param name="binary">The bytes after the JSON header (Triton's binary tensor extension), in the order of the inputs that declare <c>binary_data_size</c>.</param>
    /// <param name="binaryOutput">Where outputs asked for as binary data go; null when the transport cannot carry them (they are then refused).</param>
    public void Infer(string modelName, JsonElement request, ReadOnlySpan<byte> binary, Utf8JsonWriter response, IBufferWriter<byte>? binaryOutput)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (!_catalog.TryLease(modelName, out var model) || model is null)
        {
            throw new InferenceException(404, $"model '{modelName}' is not loaded on this device");
        }

        var started = Stopwatch.GetTimestamp();
        var context = model.RentContext();
        try
        {
            ReadRequest(model, context, request, binary, binaryOutput is not null);
            var nonFinite = Execute(model, context, request, response, binaryOutput, _observer, _taps);
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
            model.ReturnContext(context);
            model.Release();
        }
    }

    /// <summary>
    /// Reads a v2 request into <paramref name="context"/>: every input (checked for name, datatype, shape and size against
    /// the model; every model input must be given) and which outputs the response carries, and how.
    /// </summary>
    internal static void ReadRequest(OnnxModel model, RunContext context, JsonElement request, ReadOnlySpan<byte> binary, bool binaryOutputs)
    {
        if (request.ValueKind != JsonValueKind.Object || !request.TryGetProperty("inputs", out var inputs) || inputs.ValueKind != JsonValueKind.Array)
        {
            throw new InferenceException("request must be a JSON object with an \"inputs\" array");
        }

        context.Reset();
        var offset = 0;
        foreach (var input in inputs.EnumerateArray())
        {
            ReadInput(model, context, input, binary, ref offset);
        }

        for (var i = 0; i < context.Given.Length; i++)
        {
            if (!context.Given[i])
            {
                throw new InferenceException($"input '{context.InputNames[i]}' is missing; model '{model.Name}' expects {Describe(model.Inputs)}");
            }
        }

        if (offset != binary.Length)
        {
            throw new InferenceException($"the request carries {binary.Length} bytes of binary data after its JSON header, but its inputs' binary_data_size add up to {offset}");
        }

        ReadOutputs(model, context, request, binaryOutputs);
    }

    /// <summary>Runs the model on the inputs read into <paramref name="context"/>, every output allocated by ONNX Runtime.</summary>
    internal static IDisposableReadOnlyCollection<OrtValue> RunAllocating(OnnxModel model, RunContext context)
    {
        try
        {
            return model.Run(context);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InferenceException($"model '{model.Name}' rejected the input: {ex.Message.Split('\n', 2)[0]}");
        }
    }

    /// <returns>True when an output held NaN or Inf.</returns>
    private static bool Execute(OnnxModel model, RunContext context, JsonElement request, Utf8JsonWriter response, IBufferWriter<byte>? binaryOutput, IOutputObserver? observer, IInferenceTap[] taps)
    {
        var preallocatedFailed = false;
        if (context.OutputsReady && !model.OutputsVary)
        {
            try
            {
                model.RunInto(context);
                var nonFinite = WriteResponse(model, context, request, null, response, binaryOutput);
                if (observer is not null && observer.Observes(model.Name))
                {
                    observer.Observe(model.Name, context.OutputNames, context.OutputValues);
                }

                Tap(taps, model, context, null);
                return nonFinite;
            }
            catch (OnnxRuntimeException)
            {
                // Output shapes that depend on input values, not only on input shapes, or a genuinely bad input: the
                // ORT-allocated run below tells which.
                context.OutputsReady = false;
                preallocatedFailed = true;
            }
        }

        using var results = RunAllocating(model, context);
        if (preallocatedFailed)
        {
            model.MarkOutputsVary();
        }

        var hadNonFinite = WriteResponse(model, context, request, results, response, binaryOutput);
        if (observer is not null && observer.Observes(model.Name))
        {
            observer.Observe(model.Name, context.OutputNames, results);
        }

        Tap(taps, model, context, results);
        if (!model.OutputsVary)
        {
            context.AdoptOutputShapes(results);
        }

        return hadNonFinite;
    }

    private static void Tap(IInferenceTap[] taps, OnnxModel model, RunContext context, IReadOnlyList<OrtValue>? results)
    {
        foreach (var tap in taps)
        {
            if (tap.Watches(model.Name))
            {
                tap.Observe(new InferenceData(model, context, results));
            }
        }
    }

    /// <summary>Writes the v2 response from ORT-allocated <paramref name="results"/>, or from the context's output slots when null.</summary>
    private static bool WriteResponse(OnnxModel model, RunContext context, JsonElement request, IReadOnlyList<OrtValue>? results, Utf8JsonWriter response, IBufferWriter<byte>? binaryOutput)
    {
        response.WriteStartObject();
        response.WriteString("model_name", model.Name);
        response.WriteString("model_version", model.Version);
        if (request.TryGetProperty("id", out var id) && id.ValueKind == JsonValueKind.String)
        {
            response.WritePropertyName("id");
            id.WriteTo(response);
        }

        response.WriteStartArray("outputs");
        var nonFinite = false;
        for (var i = 0; i < context.RequestedCount; i++)
        {
            var index = context.Requested[i];
            var binary = context.Binary[index] ? binaryOutput : null;
            nonFinite |= results is null
                ? TensorWriter.Write(response, context.Outputs[index]!, binary)
                : TensorWriter.Write(response, context.OutputNames[index], results[index], binary);
        }

        response.WriteEndArray();
        response.WriteEndObject();
        return nonFinite;
    }

    /// <summary>
    /// Which outputs the response carries (all, in model order, unless <c>outputs</c> names some) and which as binary data
    /// (<c>parameters.binary_data_output</c> on the request, or <c>parameters.binary_data</c> per output, which wins).
    /// </summary>
    private static void ReadOutputs(OnnxModel model, RunContext context, JsonElement request, bool binaryOutputs)
    {
        var allBinary = request.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("binary_data_output", out var flag) && flag.ValueKind == JsonValueKind.True;
        var any = allBinary;
        if (!request.TryGetProperty("outputs", out var requested) || requested.ValueKind != JsonValueKind.Array || requested.GetArrayLength() == 0)
        {
            for (var i = 0; i < context.OutputNames.Length; i++)
            {
                context.Requested[i] = i;
                context.Binary[i] = allBinary;
            }

            context.RequestedCount = context.OutputNames.Length;
        }
        else
        {
            foreach (var o in requested.EnumerateArray())
            {
                var index = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? IndexOf(context.OutputNames, n) : -1;
                if (index < 0)
                {
                    var name = o.ValueKind == JsonValueKind.Object && o.TryGetProperty("name", out var given) ? given.ToString() : null;
                    throw new InferenceException($"requested output '{name}' does not exist; model '{model.Name}' has {string.Join(", ", context.OutputNames)}");
                }

                if (context.Requested.AsSpan(0, context.RequestedCount).Contains(index))
                {
                    throw new InferenceException($"output '{context.OutputNames[index]}' is requested twice");
                }

                var binary = allBinary;
                if (o.TryGetProperty("parameters", out var p) && p.ValueKind == JsonValueKind.Object)
                {
                    if (p.TryGetProperty("classification", out _))
                    {
                        throw new InferenceException($"output '{context.OutputNames[index]}' asks for the classification extension, which this agent does not offer");
                    }

                    if (p.TryGetProperty("binary_data", out var b) && b.ValueKind is JsonValueKind.True or JsonValueKind.False)
                    {
                        binary = b.ValueKind == JsonValueKind.True;
                    }
                }

                context.Binary[index] = binary;
                any |= binary;
                context.Requested[context.RequestedCount++] = index;
            }
        }

        if (any && !binaryOutputs)
        {
            throw new InferenceException("binary outputs (binary_data, binary_data_output) are only available over the HTTP API");
        }
    }

    private static void ReadInput(OnnxModel model, RunContext context, JsonElement input, ReadOnlySpan<byte> binary, ref int offset)
    {
        if (input.ValueKind != JsonValueKind.Object
            || !input.TryGetProperty("name", out var nameElement) || nameElement.ValueKind != JsonValueKind.String)
        {
            throw new InferenceException("each input needs \"name\", \"shape\", \"datatype\" and \"data\"");
        }

        var index = IndexOf(context.InputNames, nameElement);
        if (index < 0)
        {
            throw new InferenceException($"input '{nameElement.GetString()}' does not exist; model '{model.Name}' expects {Describe(model.Inputs)}");
        }

        var name = context.InputNames[index];
        if (context.Given[index])
        {
            throw new InferenceException($"input '{name}' is given twice");
        }

        var slot = context.Inputs[index]
            ?? throw new InferenceException($"input '{name}' is a {model.InputMetadata[name].OnnxValueType}, which the JSON API cannot carry");
        if (!input.TryGetProperty("datatype", out var dt) || dt.ValueKind != JsonValueKind.String)
        {
            throw new InferenceException($"input '{name}' needs \"datatype\" ({slot.Datatype})");
        }

        if (!dt.ValueEquals(slot.Datatype))
        {
            throw new InferenceException($"input '{name}' has datatype {dt.GetString()}, model expects {slot.Datatype}");
        }

        if (slot.ElementSize == 0)
        {
            throw new InferenceException($"input '{name}' has element type {slot.Type}, which this version of the API does not accept");
        }

        var dims = model.InputDimensions[index];
        if (!input.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
        {
            throw new InferenceException($"input '{name}' needs a \"shape\" array");
        }

        var rank = shapeElement.GetArrayLength();
        if (rank != dims.Length)
        {
            throw new InferenceException($"input '{name}' has shape {Shape(ReadShape(name, shapeElement))}, model expects {Shape(dims)} (rank {dims.Length})");
        }

        Span<long> shape = rank <= MaxRank ? stackalloc long[MaxRank] : new long[rank];
        shape = shape[..rank];
        ReadShape(name, shapeElement, shape);
        for (var d = 0; d < dims.Length; d++)
        {
            if (dims[d] > 0 && shape[d] != dims[d])
            {
                throw new InferenceException($"input '{name}' has shape {Shape(shape)}, model expects {Shape(dims)} (dimension {d} must be {dims[d]})");
            }
        }

        long count = 1;
        foreach (var s in shape)
        {
            count = s == 0 || count <= MaxElements / s ? count * s : MaxElements + 1;
        }

        if (count > MaxElements)
        {
            throw new InferenceException(413, $"input '{name}' shape {Shape(shape)} holds more than the {MaxElements} elements this API accepts");
        }

        var hasData = input.TryGetProperty("data", out var data);
        if (input.TryGetProperty("parameters", out var parameters) && parameters.ValueKind == JsonValueKind.Object
            && parameters.TryGetProperty("binary_data_size", out var sizeElement))
        {
            if (hasData)
            {
                throw new InferenceException($"input '{name}' has both \"data\" and parameters.binary_data_size; send one of them");
            }

            var needed = count * slot.ElementSize;
            if (sizeElement.ValueKind != JsonValueKind.Number || !sizeElement.TryGetInt64(out var size) || size != needed)
            {
                throw new InferenceException($"input '{name}' binary_data_size is {sizeElement}, its shape {Shape(shape)} of {slot.Datatype} needs {needed} bytes");
            }

            if (size > binary.Length - offset)
            {
                throw new InferenceException($"input '{name}' needs {size} bytes of binary data, but only {binary.Length - offset} are left after the JSON header and the inputs before it");
            }

            Prepare(context, slot, shape, count);
            TensorReader.ReadBinary(slot, binary.Slice(offset, (int)size));
            offset += (int)size;
        }
        else
        {
            if (!hasData)
            {
                throw new InferenceException($"input '{name}' has no \"data\" (nor parameters.binary_data_size)");
            }

            TensorReader.CheckCount(name, shape, count, data);
            Prepare(context, slot, shape, count);
            TensorReader.Read(slot, data);
        }

        context.InputValues[index] = slot.Value;
        context.Given[index] = true;
    }

    /// <summary>Gives the slot the request's shape; a change means the output buffers no longer fit.</summary>
    private static void Prepare(RunContext context, TensorSlot slot, ReadOnlySpan<long> shape, long count)
    {
        if (!slot.Holds(shape))
        {
            slot.Reshape(shape, count);
            context.OutputsReady = false;
        }
    }

    /// <summary>Index of the name <paramref name="name"/> holds, compared on its UTF-8 bytes (no string made).</summary>
    private static int IndexOf(string[] names, JsonElement name)
    {
        for (var i = 0; i < names.Length; i++)
        {
            if (name.ValueEquals(names[i]))
            {
                return i;
            }
        }

        return -1;
    }

    private static void ReadShape(string name, JsonElement shapeElement, Span<long> shape)
    {
        var i = 0;
        foreach (var s in shapeElement.EnumerateArray())
        {
            if (s.ValueKind != JsonValueKind.Number || !s.TryGetInt64(out var v) || v < 0)
            {
                throw new InferenceException($"input '{name}' shape must hold non-negative integers");
            }

            shape[i++] = v;
        }
    }

    private static long[] ReadShape(string name, JsonElement shapeElement)
    {
        var shape = new long[shapeElement.GetArrayLength()];
        ReadShape(name, shapeElement, shape);
        return shape;
    }

    internal static string Shape(ReadOnlySpan<long> dims)
    {
        var text = new System.Text.StringBuilder("[");
        for (var i = 0; i < dims.Length; i++)
        {
            text.Append(i == 0 ? string.Empty : ",").Append(dims[i] < 0 ? -1 : dims[i]);
        }

        return text.Append(']').ToString();
    }

    internal static string Shape(IEnumerable<int> dims) => Shape([.. dims.Select(d => (long)d)]);

    private static string Describe(IReadOnlyList<TensorSpec> specs) =>
        string.Join(", ", specs.Select(s => $"'{s.Name}' {s.Datatype} {Shape([.. s.Shape])}"));
}
