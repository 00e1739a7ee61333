namespace EdgeAgent.Fleet.Tests.Infrastructure;

public static class Samples
{
    /// <summary>samples/vibration/vibration.onnx, copied next to the test assembly: features FP32 [-1,8] -> probabilities, label.</summary>
    public static string VibrationModel { get; } = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");

    /// <summary>samples/vibration/acceptance.json: four acceptance vectors for the vibration model.</summary>
    public static string VibrationAcceptance { get; } = Path.Combine(AppContext.BaseDirectory, "samples", "acceptance.json");

    /// <summary>A model from tests/fixtures/models (sqrt.onnx, twice.onnx, mixed.onnx).</summary>
    public static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "fixtures", name);
}
