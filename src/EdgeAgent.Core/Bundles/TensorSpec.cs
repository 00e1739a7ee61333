using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>A model input or output: name, Open Inference Protocol datatype (FP32, INT64, ...) and shape (-1 = dynamic).</summary>
public sealed record TensorSpec(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("datatype")] string Datatype,
    [property: JsonPropertyName("shape")] IReadOnlyList<long> Shape);
