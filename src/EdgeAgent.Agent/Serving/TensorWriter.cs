using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// Writes an output tensor as a v2 JSON output (name, datatype, shape, flat data), or, for Triton's binary tensor
/// extension, as JSON with <c>parameters.binary_data_size</c> and the raw bytes appended to a separate buffer.
/// </summary>
internal static class TensorWriter
{
    /// <summary>Writes an output ONNX Runtime allocated.</summary>
    /// <returns>True when a floating-point output held NaN or an infinity.</returns>
    public static bool Write(Utf8JsonWriter writer, string name, OrtValue value, IBufferWriter<byte>? binary)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.OnnxType != OnnxValueType.ONNX_TYPE_TENSOR)
        {
            throw new InferenceException(500, $"output '{name}' is a {value.OnnxType}, which this API cannot return; ask for the tensor outputs by name in \"outputs\"");
        }

        var info = value.GetTensorTypeAndShape();
        if (TensorSlot.SizeOf(info.ElementDataType) == 0)
        {
            throw new InferenceException(500, $"output '{name}' has element type {info.ElementDataType}, which this version of the API cannot return");
        }

        return Write(writer, name, info.ElementDataType, OnnxModel.DatatypeOf(info.ElementDataType), info.Shape, value.GetTensorMutableRawData(), binary);
    }

    /// <summary>Writes an output held in a pre-allocated slot.</summary>
    public static bool Write(Utf8JsonWriter writer, TensorSlot slot, IBufferWriter<byte>? binary)
    {
        ArgumentNullException.ThrowIfNull(slot);
        return Write(writer, slot.Name, slot.Type, slot.Datatype, slot.Shape, slot.Bytes, binary);
    }

    private static bool Write(Utf8JsonWriter writer, string name, TensorElementType type, string datatype, ReadOnlySpan<long> shape, ReadOnlySpan<byte> raw, IBufferWriter<byte>? binary)
    {
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("datatype", datatype);
        writer.WriteStartArray("shape");
        foreach (var d in shape)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        if (binary is not null)
        {
            writer.WriteStartObject("parameters");
            writer.WriteNumber("binary_data_size", raw.Length);
            writer.WriteEndObject();
            binary.Write(raw);
        }
        else
        {
            writer.WritePropertyName("data");
            writer.WriteStartArray();
            WriteData(writer, type, raw);
            writer.WriteEndArray();
        }

        writer.WriteEndObject();
        return HasNonFinite(type, raw);
    }

    private static void WriteData(Utf8JsonWriter writer, TensorElementType type, ReadOnlySpan<byte> raw)
    {
        switch (type)
        {
            case TensorElementType.Float:
                WriteAll(writer, MemoryMarshal.Cast<byte, float>(raw), static (w, v) =>
                {
                    if (float.IsFinite(v))
                    {
                        w.WriteNumberValue(v);
                    }
                    else
                    {
                        w.WriteNullValue();
                    }
                });
                break;
            case TensorElementType.Double:
                WriteAll(writer, MemoryMarshal.Cast<byte, double>(raw), static (w, v) =>
                {
                    if (double.IsFinite(v))
                    {
                        w.WriteNumberValue(v);
                    }
                    else
                    {
                        w.WriteNullValue();
                    }
                });
                break;
            case TensorElementType.Float16:
                WriteAll(writer, MemoryMarshal.Cast<byte, Half>(raw), static (w, v) =>
                {
                    if (Half.IsFinite(v))
                    {
                        w.WriteNumberValue((float)v);
                    }
                    else
                    {
                        w.WriteNullValue();
                    }
                });
                break;
            case TensorElementType.Int8:
                WriteAll(writer, MemoryMarshal.Cast<byte, sbyte>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int16:
                WriteAll(writer, MemoryMarshal.Cast<byte, short>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int32:
                WriteAll(writer, MemoryMarshal.Cast<byte, int>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int64:
                WriteAll(writer, MemoryMarshal.Cast<byte, long>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt8:
                WriteAll(writer, raw, static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt16:
                WriteAll(writer, MemoryMarshal.Cast<byte, ushort>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt32:
                WriteAll(writer, MemoryMarshal.Cast<byte, uint>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt64:
                WriteAll(writer, MemoryMarshal.Cast<byte, ulong>(raw), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Bool:
                WriteAll(writer, raw, static (w, v) => w.WriteBooleanValue(v != 0));
                break;
            default:
                throw new InferenceException(500, $"element type {type} cannot be returned by this version of the API");
        }
    }

    /// <summary>True when a floating-point output holds NaN or an infinity (written as null; counted for probation and metrics).</summary>
    private static bool HasNonFinite(TensorElementType type, ReadOnlySpan<byte> raw)
    {
        switch (type)
        {
            case TensorElementType.Float:
                foreach (var v in MemoryMarshal.Cast<byte, float>(raw))
                {
                    if (!float.IsFinite(v))
                    {
                        return true;
                    }
                }

                return false;
            case TensorElementType.Double:
                foreach (var v in MemoryMarshal.Cast<byte, double>(raw))
                {
                    if (!double.IsFinite(v))
                    {
                        return true;
                    }
                }

                return false;
            case TensorElementType.Float16:
                foreach (var v in MemoryMarshal.Cast<byte, Half>(raw))
                {
                    if (!Half.IsFinite(v))
                    {
                        return true;
                    }
                }

                return false;
            default:
                return false;
        }
    }

    private static void WriteAll<T>(Utf8JsonWriter writer, ReadOnlySpan<T> values, Action<Utf8JsonWriter, T> write)
    {
        foreach (var v in values)
        {
            write(writer, v);
        }
    }
}
