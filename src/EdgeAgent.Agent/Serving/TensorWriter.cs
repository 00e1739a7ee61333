using System.Text.Json;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>Writes an output OrtValue as a v2 JSON output tensor (name, datatype, shape, flat data).</summary>
internal static class TensorWriter
{
    public static void Write(Utf8JsonWriter writer, string name, OrtValue value)
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
                foreach (var v in value.GetTensorDataAsSpan<float>())
                {
                    if (float.IsFinite(v))
                    {
                        writer.WriteNumberValue(v);
                    }
                    else
                    {
                        writer.WriteNullValue();
                    }
                }

                break;
            case TensorElementType.Double:
                foreach (var v in value.GetTensorDataAsSpan<double>())
                {
                    WriteDouble(writer, v);
                }

                break;
            case TensorElementType.Int8:
                foreach (var v in value.GetTensorDataAsSpan<sbyte>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.Int16:
                foreach (var v in value.GetTensorDataAsSpan<short>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.Int32:
                foreach (var v in value.GetTensorDataAsSpan<int>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.Int64:
                foreach (var v in value.GetTensorDataAsSpan<long>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.UInt8:
                foreach (var v in value.GetTensorDataAsSpan<byte>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.UInt16:
                foreach (var v in value.GetTensorDataAsSpan<ushort>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.UInt32:
                foreach (var v in value.GetTensorDataAsSpan<uint>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.UInt64:
                foreach (var v in value.GetTensorDataAsSpan<ulong>())
                {
                    writer.WriteNumberValue(v);
                }

                break;
            case TensorElementType.Bool:
                foreach (var v in value.GetTensorDataAsSpan<bool>())
                {
                    writer.WriteBooleanValue(v);
                }

                break;
            default:
                throw new InferenceException(500, $"output '{name}' has element type {info.ElementDataType}, which this version of the API cannot return");
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteDouble(Utf8JsonWriter writer, double v)
    {
        if (double.IsFinite(v))
        {
            writer.WriteNumberValue(v);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
