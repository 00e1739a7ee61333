using System.Device.Gpio;
using System.Diagnostics;
using System.Text.Json;
using System.Threading.Channels;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Hardware;

/// <summary>
/// <c>Gpio:Inputs</c>: a rising edge on an input pin, debounced, runs its action off the GPIO callback thread:
/// <c>report-now</c> publishes a health message now, <c>infer</c> runs the configured request file.
/// </summary>
public sealed class GpioInputs : BackgroundService
{
    private readonly GpioPort _port;
    private readonly HealthReporter _health;
    private readonly InferenceRunner _runner;
    private readonly ILogger<GpioInputs> _logger;
    private readonly GpioInput[] _inputs;
    private readonly long[] _lastEdge;
    private readonly Channel<int> _actions = Channel.CreateBounded<int>(new BoundedChannelOptions(16) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _triggered;
    private long _debounced;

    public GpioInputs(GpioPort port, IOptions<GpioOptions> options, HealthReporter health, InferenceRunner runner, ILogger<GpioInputs> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _port = port;
        _health = health;
        _runner = runner;
        _logger = logger;
        _inputs = options.Value.Enabled ? [.. options.Value.Inputs] : [];
        _lastEdge = new long[_inputs.Length];
    }

    /// <summary>Edges that ran (or queued) their action.</summary>
    public long Triggered => Interlocked.Read(ref _triggered);

    /// <summary>Edges ignored because they came within the debounce window of the last accepted one.</summary>
    public long Debounced => Interlocked.Read(ref _debounced);

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        for (var i = 0; i < _inputs.Length; i++)
        {
            var index = i;
            _port.OpenInput(_inputs[i].Pin, $"input {i} ({_inputs[i].Action})", (_, _) => OnEdge(index));
        }

        return base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_inputs.Length == 0)
        {
            return;
        }

        try
        {
            await foreach (var index in _actions.Reader.ReadAllAsync(stoppingToken))
            {
                var input = _inputs[index];
                try
                {
                    Log.GpioInput(_logger, input.Pin, input.Action);
                    if (input.Action == GpioInput.ReportNow)
                    {
                        _health.PublishNow();
                    }
                    else
                    {
                        using var request = JsonDocument.Parse(await File.ReadAllBytesAsync(input.Request!, stoppingToken));
                        using var writer = new Utf8JsonWriter(Stream.Null);
                        _runner.Infer(input.Model!, request.RootElement, writer);
                    }
                }
                catch (Exception ex) when (ex is InferenceException or IOException or JsonException or UnauthorizedAccessException)
                {
                    Log.GpioInputFailed(_logger, input.Pin, input.Action, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void OnEdge(int index)
    {
        var now = Stopwatch.GetTimestamp();
        var window = _inputs[index].DebounceMilliseconds;
        lock (_lastEdge)
        {
            var last = _lastEdge[index];
            if (last != 0 && Stopwatch.GetElapsedTime(last, now).TotalMilliseconds < window)
            {
                Interlocked.Increment(ref _debounced);
                return;
            }

            _lastEdge[index] = now;
        }

        Interlocked.Increment(ref _triggered);
        _actions.Writer.TryWrite(index);
    }
}
