namespace EdgeAgent.Fleet.Tests.Infrastructure;

public static class Samples
{
    /// <summary>samples/vibration/vibration.onnx, copied next to the test assembly: features FP32 [-1,8] -> probabilities, label.</summary>
    public static string VibrationModel { get; } = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");
}
