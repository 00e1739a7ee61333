using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// The reusable working set of one request on one model session: an input slot per model input, an output slot per
/// model output, and the arrays ONNX Runtime's <c>Run</c> takes. A model keeps a few of these in a pool
/// (<see cref="OnnxModel.RentContext"/>), so that a steady stream of same-shaped requests allocates nothing per call.
/// Used by one request at a time.
/// </summary>
internal sealed class RunContext : IDisposable
{
    public RunContext(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        InputNames = model.InputNameArray;
        OutputNames = model.OutputNameArray;
        Inputs = new TensorSlot?[InputNames.Length];
        var i = 0;
        foreach (var (name, meta) in model.InputMetadata)
        {
            Inputs[i++] = meta.IsTensor ? new TensorSlot(name, meta.ElementDataType) : null;
        }

        InputValues = new OrtValue[InputNames.Length];
        Given = new bool[InputNames.Length];
        Outputs = new TensorSlot?[OutputNames.Length];
        i = 0;
        foreach (var (name, meta) in model.OutputMetadata)
        {
            Outputs[i++] = meta.IsTensor && TensorSlot.SizeOf(meta.ElementDataType) > 0 ? new TensorSlot(name, meta.ElementDataType) : null;
        }

        OutputValues = new OrtValue[OutputNames.Length];
        Requested = new int[OutputNames.Length];
        Binary = new bool[OutputNames.Length];
    }

    /// <summary>Every model input, in the session's order.</summary>
    public string[] InputNames { get; }

    /// <summary>Every model output, in the session's order (each run computes all of them).</summary>
    public string[] OutputNames { get; }

    /// <summary>One slot per model input; null for an input that is not a tensor.</summary>
    public TensorSlot?[] Inputs { get; }

    public OrtValue[] InputValues { get; }

    /// <summary>Which inputs the current request has given.</summary>
    public bool[] Given { get; }

    /// <summary>One slot per model output; null when the output cannot live in a pre-allocated buffer.</summary>
    public TensorSlot?[] Outputs { get; }

    public OrtValue[] OutputValues { get; }

    /// <summary>Indexes into <see cref="OutputNames"/> of the outputs the response carries, in response order.</summary>
    public int[] Requested { get; }

    public int RequestedCount { get; set; }

    /// <summary>Per output index: the response carries it as binary data (Triton's binary tensor extension).</summary>
    public bool[] Binary { get; }

    /// <summary>
    /// True while <see cref="OutputValues"/> hold buffers of the shapes the current input shapes produce; set after a run
    /// has shown those shapes, cleared when an input changes shape.
    /// </summary>
    public bool OutputsReady { get; set; }

    /// <summary>Bytes of tensor buffers this context holds.</summary>
    public long Bytes
    {
        get
        {
            long total = 0;
            foreach (var s in Inputs)
            {
                total += s?.Capacity ?? 0;
            }

            foreach (var s in Outputs)
            {
                total += s?.Capacity ?? 0;
            }

            return total;
        }
    }

    /// <summary>Starts a new request: nothing given, nothing requested.</summary>
    public void Reset()
    {
        Array.Clear(Given);
        Array.Clear(Binary);
        RequestedCount = 0;
    }

    /// <summary>Sizes the output slots after the outputs of a run (ORT-allocated) of the current input shapes.</summary>
    public void AdoptOutputShapes(IReadOnlyList<OrtValue> results)
    {
        ArgumentNullException.ThrowIfNull(results);
        for (var i = 0; i < Outputs.Length; i++)
        {
            var slot = Outputs[i];
            if (slot is null || results[i].OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
            {
                OutputsReady = false;
                return;
            }

            var info = results[i].GetTensorTypeAndShape();
            if (!slot.Holds(info.Shape))
            {
                slot.Reshape(info.Shape, info.ElementCount);
            }

            OutputValues[i] = slot.Value;
        }

        OutputsReady = true;
    }

    public void Dispose()
    {
        foreach (var s in Inputs)
        {
            s?.Dispose();
        }

        foreach (var s in Outputs)
        {
            s?.Dispose();
        }
    }
}
