using System.Buffers.Binary;

namespace EdgeAgent.Cli.Drift;

/// <summary>Numbers to and from the bytes of an Open Inference Protocol datatype (little-endian, BOOL one byte).</summary>
internal static class TensorValues
{
    public static int SizeOf(string datatype) => datatype switch
    {
        "FP64" or "INT64" or "UINT64" => 8,
        "FP32" or "INT32" or "UINT32" => 4,
        "FP16" or "INT16" or "UINT16" => 2,
        "INT8" or "UINT8" or "BOOL" => 1,
        _ => 0,
    };

    public static bool IsFloat(string datatype) => datatype is "FP16" or "FP32" or "FP64";

    /// <summary>
    /// <paramref name="value"/> as the model sees it once converted to <paramref name="datatype"/> (FP32 rounding, for
    /// instance), so a baseline describes what the model was given.
    /// </summary>
    /// <exception cref="FormatException">The value does not fit the datatype.</exception>
    public static double Convert(string datatype, double value)
    {
        switch (datatype)
        {
            case "FP64":
                return value;
            case "FP32":
                var f = (float)value;
                return float.IsInfinity(f) && !double.IsInfinity(value) ? throw new FormatException($"{value} is outside the FP32 range") : f;
            case "FP16":
                var h = (Half)value;
                return Half.IsInfinity(h) && !double.IsInfinity(value) ? throw new FormatException($"{value} is outside the FP16 range") : (double)h;
            case "BOOL":
                return value is 0 or 1 ? value : throw new FormatException($"{value} is not a BOOL (0 or 1)");
            default:
                var (min, max) = Range(datatype);
                return double.IsInteger(value) && value >= min && value <= max
                    ? value
                    : throw new FormatException($"{value} is not a valid {datatype} value");
        }
    }

    /// <summary>Writes <paramref name="value"/> (already <see cref="Convert"/>ed) as <paramref name="datatype"/>.</summary>
    public static void Write(string datatype, double value, Span<byte> destination)
    {
        switch (datatype)
        {
            case "FP64": BinaryPrimitives.WriteDoubleLittleEndian(destination, value); break;
            case "FP32": BinaryPrimitives.WriteSingleLittleEndian(destination, (float)value); break;
            case "FP16": BinaryPrimitives.WriteHalfLittleEndian(destination, (Half)value); break;
            case "INT8": destination[0] = (byte)(sbyte)value; break;
            case "INT16": BinaryPrimitives.WriteInt16LittleEndian(destination, (short)value); break;
            case "INT32": BinaryPrimitives.WriteInt32LittleEndian(destination, (int)value); break;
            case "INT64": BinaryPrimitives.WriteInt64LittleEndian(destination, (long)value); break;
            case "UINT8": destination[0] = (byte)value; break;
            case "UINT16": BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)value); break;
            case "UINT32": BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)value); break;
            case "UINT64": BinaryPrimitives.WriteUInt64LittleEndian(destination, (ulong)value); break;
            case "BOOL": destination[0] = value != 0 ? (byte)1 : (byte)0; break;
            default: throw new ArgumentException($"datatype {datatype} is not a number type");
        }
    }

    /// <summary>Reads one element of <paramref name="datatype"/> as a double (BOOL as 0/1).</summary>
    public static double Read(string datatype, ReadOnlySpan<byte> source) => datatype switch
    {
        "FP64" => BinaryPrimitives.ReadDoubleLittleEndian(source),
        "FP32" => BinaryPrimitives.ReadSingleLittleEndian(source),
        "FP16" => (double)BinaryPrimitives.ReadHalfLittleEndian(source),
        "INT8" => (sbyte)source[0],
        "INT16" => BinaryPrimitives.ReadInt16LittleEndian(source),
        "INT32" => BinaryPrimitives.ReadInt32LittleEndian(source),
        "INT64" => BinaryPrimitives.ReadInt64LittleEndian(source),
        "UINT8" => source[0],
        "UINT16" => BinaryPrimitives.ReadUInt16LittleEndian(source),
        "UINT32" => BinaryPrimitives.ReadUInt32LittleEndian(source),
        "UINT64" => BinaryPrimitives.ReadUInt64LittleEndian(source),
        "BOOL" => source[0] != 0 ? 1 : 0,
        _ => throw new ArgumentException($"datatype {datatype} is not a number type"),
    };

    private static (double Min, double Max) Range(string datatype) => datatype switch
    {
        "INT8" => (sbyte.MinValue, sbyte.MaxValue),
        "INT16" => (short.MinValue, short.MaxValue),
        "INT32" => (int.MinValue, int.MaxValue),
        "INT64" => (long.MinValue, long.MaxValue),
        "UINT8" => (0, byte.MaxValue),
        "UINT16" => (0, ushort.MaxValue),
        "UINT32" => (0, uint.MaxValue),
        "UINT64" => (0, ulong.MaxValue),
        _ => throw new ArgumentException($"datatype {datatype} is not a number type"),
    };
}
