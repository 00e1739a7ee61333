using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>Fills an input slot from the JSON <c>data</c> of a v2 input (flat or nested, row-major) or from binary tensor data.</summary>
internal static class TensorReader
{
    /// <summary>
    /// Checks that <paramref name="data"/> holds exactly <paramref name="count"/> elements. It runs before the slot is sized
    /// for the shape the request claims: a 90-byte request with a huge shape and no data must not make the agent allocate
    /// hundreds of megabytes.
    /// </summary>
    public static void CheckCount(string name, ReadOnlySpan<long> shape, long count, JsonElement data)
    {
        var given = CountLeaves(data, count + 1);
        if (given != count)
        {
            throw new InferenceException(given > count
                ? $"input '{name}' has more data elements than its shape {InferenceRunner.Shape(shape)} holds ({count})"
                : $"input '{name}' has {given} data elements, its shape {InferenceRunner.Shape(shape)} needs {count}");
        }
    }

    /// <summary>Copies the JSON <c>data</c> (flat or nested, row-major) into <paramref name="slot"/>, converting to its element type.</summary>
    public static void Read(TensorSlot slot, JsonElement data)
    {
        switch (slot.Type)
        {
            case TensorElementType.Float:
                Fill(slot, data, slot.As<float>(), static e =>
                {
                    var value = (float)e.GetDouble();
                    return float.IsFinite(value) ? value : throw new FormatException("outside the FP32 range");
                });
                break;
            case TensorElementType.Double:
                Fill(slot, data, slot.As<double>(), static e => e.GetDouble());
                break;
            case TensorElementType.Float16:
                Fill(slot, data, slot.As<Float16>(), static e =>
                {
                    var value = (Half)e.GetDouble();
                    return Half.IsFinite(value) ? new Float16(BitConverter.HalfToUInt16Bits(value)) : throw new FormatException("outside the FP16 range");
                });
                break;
            case TensorElementType.Int8:
                Fill(slot, data, slot.As<sbyte>(), static e => e.GetSByte());
                break;
            case TensorElementType.Int16:
                Fill(slot, data, slot.As<short>(), static e => e.GetInt16());
                break;
            case TensorElementType.Int32:
                Fill(slot, data, slot.As<int>(), static e => e.GetInt32());
                break;
            case TensorElementType.Int64:
                Fill(slot, data, slot.As<long>(), static e => e.GetInt64());
                break;
            case TensorElementType.UInt8:
                Fill(slot, data, slot.As<byte>(), static e => e.GetByte());
                break;
            case TensorElementType.UInt16:
                Fill(slot, data, slot.As<ushort>(), static e => e.GetUInt16());
                break;
            case TensorElementType.UInt32:
                Fill(slot, data, slot.As<uint>(), static e => e.GetUInt32());
                break;
            case TensorElementType.UInt64:
                Fill(slot, data, slot.As<ulong>(), static e => e.GetUInt64());
                break;
            case TensorElementType.Bool:
                Fill(slot, data, slot.As<bool>(), static e => e.ValueKind switch
                {
                    JsonValueKind.True => true,
                    JsonValueKind.False => false,
                    _ => throw new FormatException("expected true or false"),
                });
                break;
            default:
                throw new InferenceException($"input '{slot.Name}' has element type {slot.Type}, which this version of the API does not accept");
        }
    }

    /// <summary>
    /// Copies binary tensor data (Triton's binary tensor extension: little-endian, row-major, BOOL as one byte 0 or 1)
    /// into <paramref name="slot"/>, whose size the caller has checked against the data's. Values are taken as
    /// sent (NaN included, which JSON cannot carry).
    /// </summary>
    public static void ReadBinary(TensorSlot slot, ReadOnlySpan<byte> data)
    {
        if (slot.Type == TensorElementType.Bool && data.IndexOfAnyExcept((byte)0, (byte)1) is var bad and >= 0)
        {
            throw new InferenceException($"input '{slot.Name}' binary element {bad} is {data[bad]}; BOOL elements are one byte, 0 or 1");
        }

        data.CopyTo(slot.Bytes);
    }

    private static void Fill<T>(TensorSlot slot, JsonElement data, Span<T> buffer, Func<JsonElement, T> convert)
    {
        var filled = 0;
        try
        {
            if (!Fill(data, buffer, ref filled, convert) || filled != buffer.Length)
            {
                throw new InferenceException($"input '{slot.Name}' data does not match its shape {InferenceRunner.Shape(slot.Shape)} ({slot.Count} elements)");
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or OverflowException)
        {
            throw new InferenceException($"input '{slot.Name}' data element {filled} is not a valid {slot.Datatype} value ({ex.Message})");
        }
    }

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
    private static bool Fill<T>(JsonElement element, Span<T> buffer, ref int filled, Func<JsonElement, T> convert)
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
