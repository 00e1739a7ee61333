using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Serving;

/// <summary>The tensors of one served request, valid only during <see cref="IInferenceTap.Observe"/>.</summary>
public readonly ref struct InferenceData
{
    private readonly RunContext _context;
    private readonly IReadOnlyList<OrtValue>? _results;

    internal InferenceData(OnnxModel model, RunContext context, IReadOnlyList<OrtValue>? results)
    {
        Model = model.Name;
        Version = model.Version;
        _context = context;
        _results = results;
    }

    public string Model { get; }

    public string Version { get; }

    public int InputCount => _context.InputNames.Length;

    /// <summary>The model's input names in order (the same array for every request of one loaded version).</summary>
    public IReadOnlyList<string> InputNames => _context.InputNames;

    public int OutputCount => _context.OutputNames.Length;

    /// <summary>Input <paramref name="index"/> in model order.</summary>
    public TensorView Input(int index) => _context.Inputs[index] is { } slot
        ? new TensorView(slot.Name, slot.Type, slot.Shape, slot.Bytes)
        : new TensorView(_context.InputNames[index], default, [], []);

    /// <summary>Output <paramref name="index"/> in model order (every output, also those the caller did not ask for).</summary>
    public TensorView Output(int index)
    {
        var name = _context.OutputNames[index];
        if (_results is null)
        {
            var slot = _context.Outputs[index]!;
            return new TensorView(name, slot.Type, slot.Shape, slot.Bytes);
        }

        var value = _results[index];
        if (value.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            return new TensorView(name, default, [], []);
        }

        var info = value.GetTensorTypeAndShape();
        return TensorSlot.SizeOf(info.ElementDataType) == 0
            ? new TensorView(name, default, [], [])
            : new TensorView(name, info.ElementDataType, info.Shape, value.GetTensorMutableRawData());
    }

    /// <summary>Index of the input named <paramref name="name"/>, or -1.</summary>
    public int InputIndex(string name) => Array.IndexOf(_context.InputNames, name);

    /// <summary>Index of the output named <paramref name="name"/>, or -1.</summary>
    public int OutputIndex(string name) => Array.IndexOf(_context.OutputNames, name);
}
