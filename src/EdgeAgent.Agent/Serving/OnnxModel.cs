using EdgeAgent.Core.Bundles;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// One loaded ONNX Runtime session of one model version. Requests lease it; after a swap the old session is disposed
/// when its last in-flight request returns, so no request fails because of an activation.
/// </summary>
public sealed class OnnxModel : IDisposable
{
    private readonly InferenceSession _session;

    // Disposed with this model: the session itself, or a lease on a session shared by several models (SharedSessionLoader).
    private readonly IDisposable _sessionOwner;
    private readonly RunOptions _runOptions = new();
    private readonly RunContext?[] _pool;
    private readonly int _poolBytes;
    private int _outputsVary;
    private int _leases;
    private int _retired;
    private int _disposed;

    private OnnxModel(string name, string version, InferenceSession session, IDisposable sessionOwner, string provider, string? fallback, int poolSize)
    {
        _sessionOwner = sessionOwner;
        Name = name;
        Version = version;
        ExecutionProvider = provider;
        ProviderFallback = fallback;
        _session = session;
        InputMetadata = session.InputMetadata;
        Inputs = [.. session.InputMetadata.Select(p => Describe(p.Key, p.Value))];
        Outputs = [.. session.OutputMetadata.Select(p => Describe(p.Key, p.Value))];
        OutputMetadata = session.OutputMetadata;
        InputNameArray = [.. session.InputMetadata.Keys];
        InputDimensions = [.. session.InputMetadata.Values.Select(m => m.Dimensions.Select(d => (long)d).ToArray())];
        OutputNameArray = [.. session.OutputMetadata.Keys];
        OutputNames = OutputNameArray;
        _pool = new RunContext?[poolSize];
        _poolBytes = PoolBytesPerContext;
    }

    /// <summary>A context holding more tensor memory than this (a one-off huge batch) is not kept for reuse.</summary>
    internal const int PoolBytesPerContext = 16 * 1024 * 1024;

    public string Name { get; }

    public string Version { get; }

    /// <summary>The execution provider this session runs on (<c>CPU</c>, <c>CUDA</c>, <c>TensorRT</c>).</summary>
    public string ExecutionProvider { get; }

    /// <summary>Why a preferred provider was not used (null when the first preference was taken).</summary>
    public string? ProviderFallback { get; }

    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The drift baseline of the bundle this version came from (null: not monitored for drift).</summary>
    public Core.Drift.DriftBaseline? DriftBaseline { get; internal set; }

    /// <summary>Mean duration of the staging warm-up runs (ms); null when this session was loaded without them (a reload at start-up).</summary>
    public double? WarmupMilliseconds { get; internal set; }

    internal IReadOnlyDictionary<string, NodeMetadata> InputMetadata { get; }

    internal IReadOnlyDictionary<string, NodeMetadata> OutputMetadata { get; }

    internal string[] InputNameArray { get; }

    /// <summary>Declared dimensions per input, in <see cref="InputNameArray"/> order; negative for a dynamic one.</summary>
    internal long[][] InputDimensions { get; }

    internal string[] OutputNameArray { get; }

    /// <summary>
    /// True once a run showed that this model's output shapes depend on input values, not only on input shapes; its
    /// outputs are then always allocated by ONNX Runtime.
    /// </summary>
    public bool OutputsVary => Volatile.Read(ref _outputsVary) == 1;

    public static OnnxModel Load(string name, string version, string path, Options.ServingOptions? serving = null)
    {
        serving ??= new Options.ServingOptions();
        var session = CreateSession(path, serving, out var provider, out var fallback);
        return new OnnxModel(name, version, session, session, provider, fallback, PoolSize(serving));
    }

    /// <summary>
    /// A model over a session that others use too (ONNX Runtime's <c>Run</c> is thread-safe): this model's run options and
    /// buffers are its own, and disposing it disposes <paramref name="lease"/> instead of the session.
    /// </summary>
    public static OnnxModel Shared(string name, string version, InferenceSession session, IDisposable lease, string provider, string? fallback, Options.ServingOptions? serving = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(lease);
        return new OnnxModel(name, version, session, lease, provider, fallback, PoolSize(serving ?? new Options.ServingOptions()));
    }

    /// <summary>A new ONNX Runtime session of <paramref name="path"/> with the serving options (optimization level, threads, providers).</summary>
    public static InferenceSession CreateSession(string path, Options.ServingOptions serving, out string provider, out string? fallback)
    {
        ArgumentNullException.ThrowIfNull(serving);
        using var options = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            GraphOptimizationLevel = serving.GraphOptimizationLevel.ToLowerInvariant() switch
            {
                "none" => GraphOptimizationLevel.ORT_DISABLE_ALL,
                "basic" => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                "extended" => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            IntraOpNumThreads = serving.IntraOpThreads,
            InterOpNumThreads = serving.InterOpThreads,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
        };
        (provider, fallback) = ChooseProvider(options, serving.ExecutionProviders);
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new BundleRejectedException(RejectionReason.ModelLoadFailed, $"ONNX Runtime cannot load '{Path.GetFileName(path)}': {FirstLine(ex.Message)}");
        }
    }

    private static int PoolSize(Options.ServingOptions serving) =>
        Math.Clamp(serving.MaxConcurrentRequests > 0 ? serving.MaxConcurrentRequests : Environment.ProcessorCount, 1, 64);

    /// <summary>
    /// Appends the first preferred provider this build and machine offer; CPU always works. What was skipped and why is
    /// returned, so that a fallback is reported (health, <c>/v1/status</c>, <c>edgectl check</c>) and never silent.
    /// </summary>
    private static (string Provider, string? Fallback) ChooseProvider(Microsoft.ML.OnnxRuntime.SessionOptions options, IReadOnlyList<string> preferences)
    {
        var skipped = new List<string>();
        foreach (var preference in preferences)
        {
            if (preference.Equals("CPU", StringComparison.OrdinalIgnoreCase))
            {
                return ("CPU", skipped.Count == 0 ? null : string.Join("; ", skipped));
            }

            try
            {
                if (preference.Equals("CUDA", StringComparison.OrdinalIgnoreCase))
                {
                    options.AppendExecutionProvider_CUDA(0);
                    return ("CUDA", skipped.Count == 0 ? null : string.Join("; ", skipped));
                }

                if (preference.Equals("TensorRT", StringComparison.OrdinalIgnoreCase))
                {
                    options.AppendExecutionProvider_Tensorrt(0);
                    return ("TensorRT", skipped.Count == 0 ? null : string.Join("; ", skipped));
                }

                skipped.Add($"{preference}: unknown provider");
            }
            catch (Exception ex) when (ex is OnnxRuntimeException or EntryPointNotFoundException or DllNotFoundException)
            {
                skipped.Add($"{preference} unavailable: {FirstLine(ex.Message)}");
            }
        }

        // The list did not name CPU: it is still the last resort.
        return ("CPU", skipped.Count == 0 ? null : string.Join("; ", skipped));
    }

    private static string FirstLine(string text) => text.Split('\n', 2)[0].Trim();

    private static TensorSpec Describe(string name, NodeMetadata meta) =>
        new(name, meta.IsTensor ? DatatypeOf(meta.ElementDataType) : meta.OnnxValueType.ToString().ToUpperInvariant(), [.. meta.Dimensions.Select(d => (long)d)]);

    public static string DatatypeOf(TensorElementType type) => TensorDatatypes.FromOnnxElementType(type.ToString());

    /// <summary>Runs the model on the context's inputs; every output is allocated by ONNX Runtime. The caller disposes the results.</summary>
    internal IDisposableReadOnlyCollection<OrtValue> Run(RunContext context) =>
        // One RunOptions per session, shared by concurrent runs (it is only read): no allocation per call.
        _session.Run(_runOptions, context.InputNames, context.InputValues, context.OutputNames);

    /// <summary>Runs the model on the context's inputs into its pre-allocated output buffers (<see cref="RunContext.OutputsReady"/>).</summary>
    internal void RunInto(RunContext context) =>
        _session.Run(_runOptions, context.InputNames, context.InputValues, context.OutputNames, context.OutputValues);

    /// <summary>Records that pre-allocated outputs failed where ORT-allocated ones worked: output shapes depend on values.</summary>
    internal void MarkOutputsVary() => Volatile.Write(ref _outputsVary, 1);

    /// <summary>A context from the pool (or a new one when all are in use). Give it back with <see cref="ReturnContext"/>.</summary>
    internal RunContext RentContext()
    {
        for (var i = 0; i < _pool.Length; i++)
        {
            if (Interlocked.Exchange(ref _pool[i], null) is { } context)
            {
                return context;
            }
        }

        return new RunContext(this);
    }

    /// <summary>Keeps <paramref name="context"/> for the next request, unless the pool is full, it is oversized or the session is gone.</summary>
    internal void ReturnContext(RunContext context)
    {
        if (!IsDisposed && context.Bytes <= _poolBytes)
        {
            for (var i = 0; i < _pool.Length; i++)
            {
                if (Interlocked.CompareExchange(ref _pool[i], context, null) is null)
                {
                    if (IsDisposed && Interlocked.Exchange(ref _pool[i], null) is { } late)
                    {
                        // Disposed meanwhile: Dispose may already have emptied the pool.
                        late.Dispose();
                    }

                    return;
                }
            }
        }

        context.Dispose();
    }

    public bool TryAcquire()
    {
        Interlocked.Increment(ref _leases);
        if (Volatile.Read(ref _retired) == 1)
        {
            Release();
            return false;
        }

        return true;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _leases) == 0 && Volatile.Read(ref _retired) == 1)
        {
            Dispose();
        }
    }

    /// <summary>Stops new leases; the session is disposed once the last in-flight request releases it.</summary>
    public void Retire()
    {
        // Full fences on both sides (Interlocked), so TryAcquire and Retire cannot both miss each other on ARM64.
        Interlocked.Exchange(ref _retired, 1);
        if (Interlocked.CompareExchange(ref _leases, 0, 0) == 0)
        {
            Dispose();
        }
    }

    public bool IsDisposed => Volatile.Read(ref _disposed) == 1;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            for (var i = 0; i < _pool.Length; i++)
            {
                Interlocked.Exchange(ref _pool[i], null)?.Dispose();
            }

            _sessionOwner.Dispose();
            _runOptions.Dispose();
        }
    }
}
