using System.Buffers;
using System.Text.Json;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli.Drift;

/// <summary>
/// Runs a model over the rows of a <see cref="SampleTable"/> through the agent's own serving code (<see cref="OnnxModel"/>,
/// <see cref="InferenceRunner"/>, Triton's binary tensor extension so NaN inputs get through), in batches when every
/// input's first dimension is dynamic, one row at a time otherwise.
/// </summary>
internal sealed class OfflineModel : IDisposable
{
    private const string ModelName = "edgectl-drift";
    private const int MaxBatchRows = 256;
    private const int MaxBatchValues = 1 << 20;
    private readonly ModelCatalog _catalog = new();
    private readonly InferenceRunner _runner;

    public OfflineModel(string path)
    {
        var model = OnnxModel.Load(ModelName, "0.0.0", path);
        _catalog.Activate(model);
        _runner = new InferenceRunner(_catalog, new InferenceMeter(TimeProvider.System));
        Inputs = model.Inputs;
        Outputs = model.Outputs;
    }

    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    /// <summary>Every output over every row of <paramref name="table"/>, in the model's output order.</summary>
    public IReadOnlyList<OutputColumn> Run(SampleTable table)
    {
        var dynamicBatch = table.Inputs.All(l => l.Spec.Shape[0] < 0);
        var batch = dynamicBatch ? Math.Clamp(MaxBatchValues / Math.Max(1, table.Width), 1, MaxBatchRows) : 1;
        var numeric = Outputs.Where(o => TensorValues.SizeOf(o.Datatype) > 0).Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        var collected = Outputs.ToDictionary(o => o.Name, o => new Collector(o, numeric.Contains(o.Name) ? null : $"it is {o.Datatype}, not a tensor of numbers"), StringComparer.Ordinal);
        if (numeric.Count == 0)
        {
            return [.. collected.Values.Select(c => c.Finish())];
        }

        var response = new ArrayBufferWriter<byte>();
        var binaryOut = new ArrayBufferWriter<byte>();
        for (var start = 0; start < table.Rows; start += batch)
        {
            var rows = Math.Min(batch, table.Rows - start);
            var (header, binary) = Request(table, start, rows, numeric);
            using var request = JsonDocument.Parse(header);
            response.ResetWrittenCount();
            binaryOut.ResetWrittenCount();
            using (var writer = new Utf8JsonWriter(response))
            {
                try
                {
                    _runner.Infer(ModelName, request.RootElement, binary, writer, binaryOut);
                }
                catch (InferenceException ex)
                {
                    var which = rows == 1 ? $"row {start + 1}" : $"rows {start + 1}..{start + rows}";
                    throw new InvalidDataException($"the model refused {which} of {table.Path}: {ex.Message}");
                }
            }

            using var answer = JsonDocument.Parse(response.WrittenMemory);
            var offset = 0;
            foreach (var output in answer.RootElement.GetProperty("outputs").EnumerateArray())
            {
                var size = output.GetProperty("parameters").GetProperty("binary_data_size").GetInt32();
                var shape = output.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                collected[output.GetProperty("name").GetString()!].Add(shape, rows, binaryOut.WrittenSpan.Slice(offset, size));
                offset += size;
            }
        }

        return [.. collected.Values.Select(c => c.Finish())];
    }

    public void Dispose() => _catalog.Dispose();

    private static (byte[] Header, byte[] Binary) Request(SampleTable table, int start, int rows, HashSet<string> outputs)
    {
        using var binary = new MemoryStream();
        var json = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            writer.WriteStartArray("inputs");
            foreach (var input in table.Inputs)
            {
                var elementSize = TensorValues.SizeOf(input.Spec.Datatype);
                var bytes = new byte[rows * input.Size * elementSize];
                var at = 0;
                for (var r = start; r < start + rows; r++)
                {
                    foreach (var v in table.Sample(r, input))
                    {
                        TensorValues.Write(input.Spec.Datatype, v, bytes.AsSpan(at, elementSize));
                        at += elementSize;
                    }
                }

                binary.Write(bytes);
                writer.WriteStartObject();
                writer.WriteString("name", input.Name);
                writer.WriteString("datatype", input.Spec.Datatype);
                writer.WriteStartArray("shape");
                writer.WriteNumberValue(rows);
                foreach (var d in input.SampleShape)
                {
                    writer.WriteNumberValue(d);
                }

                writer.WriteEndArray();
                writer.WriteStartObject("parameters");
                writer.WriteNumber("binary_data_size", bytes.Length);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("outputs");
            foreach (var name in outputs)
            {
                writer.WriteStartObject();
                writer.WriteString("name", name);
                writer.WriteStartObject("parameters");
                writer.WriteBoolean("binary_data", true);
                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return (json.WrittenSpan.ToArray(), binary.ToArray());
    }

    /// <summary>Gathers one output batch by batch, or notes why it cannot be taken per sample.</summary>
    private sealed class Collector(TensorSpec spec, string? skipped)
    {
        private readonly List<double> _values = [];
        private int _perSample = -1;
        private string? _skipped = skipped;

        public void Add(long[] shape, int rows, ReadOnlySpan<byte> data)
        {
            if (_skipped is not null)
            {
                return;
            }

            var elementSize = TensorValues.SizeOf(spec.Datatype);
            var count = data.Length / elementSize;
            if (shape.Length == 0 || shape[0] != rows)
            {
                _skipped = $"its shape {SampleReader.Shape(shape)} does not lead with the batch ({rows})";
                return;
            }

            var perSample = count / rows;
            if (_perSample >= 0 && perSample != _perSample)
            {
                _skipped = $"its size per sample varies ({_perSample}, then {perSample})";
                return;
            }

            _perSample = perSample;
            for (var i = 0; i < count; i++)
            {
                _values.Add(TensorValues.Read(spec.Datatype, data.Slice(i * elementSize, elementSize)));
            }
        }

        public OutputColumn Finish() => _skipped is not null
            ? new OutputColumn(spec, 0, null, _skipped)
            : new OutputColumn(spec, Math.Max(0, _perSample), [.. _values], null);
    }
}
