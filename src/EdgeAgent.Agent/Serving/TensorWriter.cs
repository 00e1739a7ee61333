using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>Writes an output OrtValue as a v2 JSON output tensor (name, datatype, shape, flat data).</summary>
internal static class TensorWriter
{
    /// <returns>True when a floating-point output held NaN or an infinity (one type-and-shape lookup for both).</returns>
    public static bool Write(Utf8JsonWriter writer, string name, OrtValue value)
    {
        var info = value.GetTensorTypeAndShape();
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("datatype", OnnxModel.DatatypeOf(info.ElementDataType));
        writer.WriteStartArray("shape");
        foreach (var d in info.Shape)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        writer.WritePropertyName("data");
        writer.WriteStartArray();
        switch (info.ElementDataType)
        {
            case TensorElementType.Float:
                WriteAll(writer, value.GetTensorDataAsSpan<float>(), static (w, v) =>
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
                WriteAll(writer, value.GetTensorDataAsSpan<double>(), static (w, v) =>
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
                WriteAll(writer, value.GetTensorDataAsSpan<Float16>(), static (w, v) =>
                {
                    var half = BitConverter.UInt16BitsToHalf(v.value);
                    if (Half.IsFinite(half))
                    {
                        w.WriteNumberValue((float)half);
                    }
                    else
                    {
                        w.WriteNullValue();
                    }
                });
                break;
            case TensorElementType.Int8:
                WriteAll(writer, value.GetTensorDataAsSpan<sbyte>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int16:
                WriteAll(writer, value.GetTensorDataAsSpan<short>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int32:
                WriteAll(writer, value.GetTensorDataAsSpan<int>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Int64:
                WriteAll(writer, value.GetTensorDataAsSpan<long>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt8:
                WriteAll(writer, value.GetTensorDataAsSpan<byte>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt16:
                WriteAll(writer, value.GetTensorDataAsSpan<ushort>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt32:
                WriteAll(writer, value.GetTensorDataAsSpan<uint>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.UInt64:
                WriteAll(writer, value.GetTensorDataAsSpan<ulong>(), static (w, v) => w.WriteNumberValue(v));
                break;
            case TensorElementType.Bool:
                WriteAll(writer, value.GetTensorDataAsSpan<bool>(), static (w, v) => w.WriteBooleanValue(v));
                break;
            default:
                throw new InferenceException(500, $"output '{name}' has element type {info.ElementDataType}, which this version of the API cannot return");
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
        return HasNonFinite(value, info.ElementDataType);
    }

    /// <summary>True when a floating-point output holds NaN or an infinity (written as null; counted for probation and metrics).</summary>
    private static bool HasNonFinite(OrtValue value, TensorElementType type)
    {
        switch (type)
        {
            case TensorElementType.Float:
                foreach (var v in value.GetTensorDataAsSpan<float>())
                {
                    if (!float.IsFinite(v))
                    {
                        return true;
                    }
                }

                return false;
            case TensorElementType.Double:
                foreach (var v in value.GetTensorDataAsSpan<double>())
                {
                    if (!double.IsFinite(v))
                    {
                        return true;
                    }
                }

                return false;
            case TensorElementType.Float16:
                foreach (var v in value.GetTensorDataAsSpan<Float16>())
                {
                    if (!Half.IsFinite(BitConverter.UInt16BitsToHalf(v.value)))
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
