using System.Buffers;
using System.Collections.Frozen;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Threading.Channels;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Capture;

/// <summary>
/// Data capture (<c>Capture</c> options): sees every served request of a model that is in drift or has a
/// low-confidence rule, keeps those that qualify (rate-limited per model, size-capped, redacted) and hands them to a
/// background writer, so the request thread never waits for the disk.
/// </summary>
public sealed class CaptureRecorder : BackgroundService, IInferenceTap
{
    private readonly CaptureOptions _options;
    private readonly CaptureStore _store;
    private readonly ModelDriftStates _drift;
    private readonly TimeProvider _time;
    private readonly ILogger<CaptureRecorder> _logger;
    private readonly FrozenDictionary<string, CaptureLowConfidence[]> _lowConfidence;
    private readonly FrozenDictionary<string, int[]> _redactElements;
    private readonly FrozenSet<string> _redactInputs;
    private readonly Channel<CaptureSample> _pending = Channel.CreateBounded<CaptureSample>(new BoundedChannelOptions(256) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });
    private readonly Dictionary<string, (long Minute, int Count)> _rate = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private long _captured;
    private long _skipped;

    public CaptureRecorder(IOptions<CaptureOptions> options, CaptureStore store, ModelDriftStates drift, TimeProvider time, ILogger<CaptureRecorder> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        _store = store;
        _drift = drift;
        _time = time;
        _logger = logger;
        _lowConfidence = (_options.Enabled ? _options.LowConfidence : [])
            .GroupBy(r => r.Model, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        _redactInputs = _options.Redact.Where(r => !r.EndsWith(']')).ToFrozenSet(StringComparer.Ordinal);
        _redactElements = _options.Redact.Where(r => r.EndsWith(']') && r.IndexOf('[') > 0)
            .Select(r => (Name: r[..r.IndexOf('[')], Index: int.TryParse(r[(r.IndexOf('[') + 1)..^1], System.Globalization.CultureInfo.InvariantCulture, out var i) ? i : -1))
            .Where(r => r.Index >= 0)
            .GroupBy(r => r.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(g => g.Key, g => g.Select(r => r.Index).ToArray(), StringComparer.Ordinal);
    }

    /// <summary>Samples handed to the store since start.</summary>
    public long Captured => Interlocked.Read(ref _captured);

    /// <summary>Qualifying requests not kept since start: over the per-minute rate, over the size cap, or the writer was behind.</summary>
    public long Skipped => Interlocked.Read(ref _skipped);

    public bool Watches(string model) =>
        _options.Enabled && ((_options.OnDrift && _drift.InDrift(model)) || _lowConfidence.ContainsKey(model));

    public void Observe(InferenceData data)
    {
        var reason = _options.OnDrift && _drift.InDrift(data.Model) ? "drift" : LowConfidence(data) ? "low-confidence" : null;
        if (reason is null)
        {
            return;
        }

        if (!TakeTurn(data.Model) || TooBig(data))
        {
            Interlocked.Increment(ref _skipped);
            return;
        }

        var sample = new CaptureSample
        {
            Model = data.Model,
            Version = data.Version,
            At = _time.GetUtcNow().UtcDateTime,
            Reason = reason,
            Json = Serialize(data),
        };
        if (_pending.Writer.TryWrite(sample))
        {
            Interlocked.Increment(ref _captured);
        }
        else
        {
            Interlocked.Increment(ref _skipped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var sample in _pending.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    _store.Add(sample);
                }
                catch (Exception ex) when (ex is IOException or LiteDB.LiteException or UnauthorizedAccessException)
                {
                    // A full disk or a damaged file must not stop serving: the sample is lost and said so.
                    Interlocked.Increment(ref _skipped);
                    Log.CaptureWriteFailed(_logger, sample.Model, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping; what is still queued is dropped with the process.
        }
    }

    private bool LowConfidence(InferenceData data)
    {
        if (!_lowConfidence.TryGetValue(data.Model, out var rules))
        {
            return false;
        }

        foreach (var rule in rules)
        {
            var index = data.OutputIndex(rule.Output);
            if (index < 0)
            {
                continue;
            }

            var view = data.Output(index);
            var per = view.PerSample;
            var count = view.Count;
            for (var row = 0; per > 0 && row + per <= count; row += per)
            {
                var max = double.NegativeInfinity;
                for (var i = row; i < row + per; i++)
                {
                    max = Math.Max(max, view.At(i));
                }

                if (max < rule.Below)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private bool TakeTurn(string model)
    {
        var minute = _time.GetUtcNow().ToUnixTimeSeconds() / 60;
        lock (_gate)
        {
            _rate.TryGetValue(model, out var rate);
            if (rate.Minute != minute)
            {
                rate = (minute, 0);
            }

            if (rate.Count >= _options.SamplesPerMinute)
            {
                return false;
            }

            _rate[model] = (minute, rate.Count + 1);
            return true;
        }
    }

    private bool TooBig(InferenceData data)
    {
        long bytes = 0;
        for (var i = 0; i < data.InputCount; i++)
        {
            bytes += data.Input(i).Bytes.Length;
        }

        return bytes > (long)_options.MaxSampleKilobytes * 1024;
    }

    private string Serialize(InferenceData data)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            var redacted = new List<string>();
            for (var i = 0; i < data.InputCount; i++)
            {
                var view = data.Input(i);
                if (_redactInputs.Contains(view.Name))
                {
                    redacted.Add(view.Name);
                    continue;
                }

                _redactElements.TryGetValue(view.Name, out var blank);
                foreach (var b in blank ?? [])
                {
                    redacted.Add($"{view.Name}[{b}]");
                }

                WriteTensor(writer, view, blank);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("outputs");
            for (var i = 0; i < data.OutputCount; i++)
            {
                WriteTensor(writer, data.Output(i), null);
            }

            writer.WriteEndArray();
            if (redacted.Count > 0)
            {
                writer.WriteStartArray("redacted");
                foreach (var r in redacted)
                {
                    writer.WriteStringValue(r);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    /// <summary>An Open Inference Protocol tensor; elements whose index within a sample is in <paramref name="blank"/> are written as null.</summary>
    private static void WriteTensor(Utf8JsonWriter writer, TensorView view, int[]? blank)
    {
        if (view.Type == default)
        {
            return;
        }

        writer.WriteStartObject();
        writer.WriteString("name", view.Name);
        writer.WriteString("datatype", OnnxModel.DatatypeOf(view.Type));
        writer.WriteStartArray("shape");
        foreach (var d in view.Shape)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("data");
        var per = Math.Max(1, view.PerSample);
        for (var i = 0; i < view.Count; i++)
        {
            if (blank is not null && Array.IndexOf(blank, i % per) >= 0)
            {
                writer.WriteNullValue();
                continue;
            }

            switch (view.Type)
            {
                case TensorElementType.Float:
                    WriteReal(writer, MemoryMarshal.Cast<byte, float>(view.Bytes)[i]);
                    break;
                case TensorElementType.Float16:
                    WriteReal(writer, (float)MemoryMarshal.Cast<byte, Half>(view.Bytes)[i]);
                    break;
                case TensorElementType.Double:
                    var d = MemoryMarshal.Cast<byte, double>(view.Bytes)[i];
                    if (double.IsFinite(d))
                    {
                        writer.WriteNumberValue(d);
                    }
                    else
                    {
                        writer.WriteNullValue();
                    }

                    break;
                case TensorElementType.Bool:
                    writer.WriteBooleanValue(view.Bytes[i] != 0);
                    break;
                case TensorElementType.UInt64:
                    writer.WriteNumberValue(MemoryMarshal.Cast<byte, ulong>(view.Bytes)[i]);
                    break;
                case TensorElementType.Int64:
                    writer.WriteNumberValue(MemoryMarshal.Cast<byte, long>(view.Bytes)[i]);
                    break;
                default:
                    writer.WriteNumberValue((long)view.At(i));
                    break;
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteReal(Utf8JsonWriter writer, float value)
    {
        if (float.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
