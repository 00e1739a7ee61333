using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Fleet.Bundles;

/// <summary>Reads a model's input and output schema with ONNX Runtime (which also proves the file loads).</summary>
public static class ModelIntrospector
{
    public static (IReadOnlyList<TensorSpec> Inputs, IReadOnlyList<TensorSpec> Outputs) Read(string path)
    {
        try
        {
            using var session = new InferenceSession(path);
            return ([.. session.InputMetadata.Select(p => Describe(p.Key, p.Value))], [.. session.OutputMetadata.Select(p => Describe(p.Key, p.Value))]);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new InvalidDataException($"{path} is not a model ONNX Runtime can load ({ex.Message.Split('\n', 2)[0].Trim()})", ex);
        }
    }

    private static TensorSpec Describe(string name, NodeMetadata meta) => new(
        name,
        meta.IsTensor ? TensorDatatypes.FromOnnxElementType(meta.ElementDataType.ToString()) : meta.OnnxValueType.ToString().ToUpperInvariant(),
        [.. meta.Dimensions.Select(d => (long)d)]);
}
