using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>Turns the JSON <c>data</c> of a v2 input (flat or nested, row-major) into an OrtValue of the model's element type.</summary>
internal static class TensorReader
{
    public static OrtValue Read(string name, TensorElementType type, long[] shape, long count, JsonElement data) => type switch
    {
        TensorElementType.Float => Create(name, shape, count, data, static e =>
        {
            var value = (float)e.GetDouble();
            return float.IsFinite(value) ? value : throw new FormatException("outside the FP32 range");
        }),
        TensorElementType.Double => Create(name, shape, count, data, static e => e.GetDouble()),
        TensorElementType.Float16 => Create(name, shape, count, data, static e =>
        {
            var value = (Half)e.GetDouble();
            return Half.IsFinite(value) ? new Float16(BitConverter.HalfToUInt16Bits(value)) : throw new FormatException("outside the FP16 range");
        }),
        TensorElementType.Int8 => Create(name, shape, count, data, static e => e.GetSByte()),
        TensorElementType.Int16 => Create(name, shape, count, data, static e => e.GetInt16()),
        TensorElementType.Int32 => Create(name, shape, count, data, static e => e.GetInt32()),
        TensorElementType.Int64 => Create(name, shape, count, data, static e => e.GetInt64()),
        TensorElementType.UInt8 => Create(name, shape, count, data, static e => e.GetByte()),
        TensorElementType.UInt16 => Create(name, shape, count, data, static e => e.GetUInt16()),
        TensorElementType.UInt32 => Create(name, shape, count, data, static e => e.GetUInt32()),
        TensorElementType.UInt64 => Create(name, shape, count, data, static e => e.GetUInt64()),
        TensorElementType.Bool => Create(name, shape, count, data, static e => e.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new FormatException("expected true or false"),
        }),
        _ => throw new InferenceException($"input '{name}' has element type {type}, which this version of the API does not accept"),
    };

    /// <summary>A tensor of zeros (false for BOOL) of one of the element types <see cref="Read"/> accepts.</summary>
    public static OrtValue Zeros(string name, TensorElementType type, long[] shape, long count) => type switch
    {
        TensorElementType.Float => OrtValue.CreateTensorValueFromMemory(new float[count], shape),
        TensorElementType.Double => OrtValue.CreateTensorValueFromMemory(new double[count], shape),
        TensorElementType.Float16 => OrtValue.CreateTensorValueFromMemory(new Float16[count], shape),
        TensorElementType.Int8 => OrtValue.CreateTensorValueFromMemory(new sbyte[count], shape),
        TensorElementType.Int16 => OrtValue.CreateTensorValueFromMemory(new short[count], shape),
        TensorElementType.Int32 => OrtValue.CreateTensorValueFromMemory(new int[count], shape),
        TensorElementType.Int64 => OrtValue.CreateTensorValueFromMemory(new long[count], shape),
        TensorElementType.UInt8 => OrtValue.CreateTensorValueFromMemory(new byte[count], shape),
        TensorElementType.UInt16 => OrtValue.CreateTensorValueFromMemory(new ushort[count], shape),
        TensorElementType.UInt32 => OrtValue.CreateTensorValueFromMemory(new uint[count], shape),
        TensorElementType.UInt64 => OrtValue.CreateTensorValueFromMemory(new ulong[count], shape),
        TensorElementType.Bool => OrtValue.CreateTensorValueFromMemory(new bool[count], shape),
        _ => throw new InferenceException($"input '{name}' has element type {type}, which this version of the API does not accept"),
    };

    private static OrtValue Create<T>(string name, long[] shape, long count, JsonElement data, Func<JsonElement, T> convert)
        where T : unmanaged
    {
        // Count what the request really carries before allocating what its shape claims: a 90-byte request with a huge
        // shape and no data must not make the agent allocate hundreds of megabytes.
        var given = CountLeaves(data, count + 1);
        if (given != count)
        {
            throw new InferenceException(given > count
                ? $"input '{name}' has more data elements than its shape {InferenceRunner.Shape(shape)} holds ({count})"
                : $"input '{name}' has {given} data elements, its shape {InferenceRunner.Shape(shape)} needs {count}");
        }

        var buffer = new T[count];
        var filled = 0L;
        try
        {
            if (!Fill(data, buffer, ref filled, convert))
            {
                throw new InferenceException($"input '{name}' has more data elements than its shape {InferenceRunner.Shape(shape)} holds ({count})");
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
        {
            throw new InferenceException($"input '{name}' data element {filled} is not a valid {OnnxModel.DatatypeOf(TensorElementTypeOf<T>())} value ({ex.Message})");
        }

        if (filled != count)
        {
            throw new InferenceException($"input '{name}' has {filled} data elements, its shape {InferenceRunner.Shape(shape)} needs {count}");
        }

        return OrtValue.CreateTensorValueFromMemory(buffer, shape);
    }

    private static TensorElementType TensorElementTypeOf<T>() => default(T) switch
    {
        float => TensorElementType.Float,
        double => TensorElementType.Double,
        Float16 => TensorElementType.Float16,
        sbyte => TensorElementType.Int8,
        short => TensorElementType.Int16,
        int => TensorElementType.Int32,
        long => TensorElementType.Int64,
        byte => TensorElementType.UInt8,
        ushort => TensorElementType.UInt16,
        uint => TensorElementType.UInt32,
        ulong => TensorElementType.UInt64,
        bool => TensorElementType.Bool,
        _ => TensorElementType.DataTypeMax,
    };

    /// <summary>Number of non-array elements, counting no further than <paramref name="limit"/>.</summary>
    private static long CountLeaves(JsonElement element, long limit)
    {
        if (element.ValueKind != JsonValueKind.Array)
        {
            return 1;
        }

        long total = 0;
        foreach (var item in element.EnumerateArray())
        {
            total += item.ValueKind == JsonValueKind.Array ? CountLeaves(item, limit - total) : 1;
            if (total >= limit)
            {
                return total;
            }
        }

        return total;
    }

    /// <summary>Copies elements in row-major order; false when there are more than the buffer holds.</summary>
    private static bool Fill<T>(JsonElement element, T[] buffer, ref long filled, Func<JsonElement, T> convert)
    {
        if (element.ValueKind == JsonValueKind.Array)
        {
            foreach (var item in element.EnumerateArray())
            {
                if (!Fill(item, buffer, ref filled, convert))
                {
                    return false;
                }
            }

            return true;
        }

        if (filled >= buffer.Length)
        {
            return false;
        }

        buffer[filled] = convert(element);
        filled++;
        return true;
    }
}
