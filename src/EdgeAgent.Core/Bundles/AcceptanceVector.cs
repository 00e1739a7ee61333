using System.Text.Json;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// One acceptance vector. <see cref="Request"/> is the vector's JSON object as written, which is an Open Inference
/// Protocol request body: its <c>inputs</c> are v2 input tensors and its <c>outputs</c> name the outputs to compare.
/// </summary>
public sealed record AcceptanceVector(string Name, JsonElement Request, IReadOnlyList<string> InputNames, IReadOnlyList<AcceptanceOutput> Outputs, double? Tolerance);
