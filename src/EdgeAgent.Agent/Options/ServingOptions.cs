namespace EdgeAgent.Agent.Options;

/// <summary>Section <c>Serving</c>: ONNX Runtime session options for every model this device serves.</summary>
public sealed class ServingOptions
{
    public const string Section = "Serving";

    public static readonly IReadOnlyList<string> KnownProviders = ["CPU", "CUDA", "TensorRT"];

    /// <summary>Latency budget per inference (ms) a model must meet on its staging warm-up; 0 = no budget. <c>edgectl check</c> reports it.</summary>
    public double LatencySloMilliseconds { get; set; }

    public static readonly IReadOnlyList<string> KnownOptimizationLevels = ["none", "basic", "extended", "all"];

    /// <summary>Threads inside one operator (0: ONNX Runtime's default, one per core).</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Threads across independent operators (0: ONNX Runtime's default).</summary>
    public int InterOpThreads { get; set; } = 1;

    /// <summary>Graph optimisation: <c>none</c>, <c>basic</c>, <c>extended</c> or <c>all</c>.</summary>
    public string GraphOptimizationLevel { get; set; } = "all";

    /// <summary>
    /// Execution providers in order of preference (<c>CPU</c>, <c>CUDA</c>, <c>TensorRT</c>). The first one this build
    /// and machine offer is used; CPU always works, and a fallback is reported in health and by <c>edgectl check</c>.
    /// Empty (the default) means CPU. (A non-empty default would have the configuration binder append to it.)
    /// </summary>
    public IReadOnlyList<string> ExecutionProviders { get; set; } = [];

    /// <summary>Requests of one model that run at once (0: the number of processor cores).</summary>
    public int MaxConcurrentRequests { get; set; }

    /// <summary>Requests of one model that may wait for a turn; more are answered 429 at once.</summary>
    public int MaxQueuedRequests { get; set; } = 64;

    /// <summary>Longest wait for a turn before a request is answered 429.</summary>
    public int QueueTimeoutMilliseconds { get; set; } = 2000;
}
