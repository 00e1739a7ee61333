using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace EdgeAgent.Cli;

/// <summary>
/// Reads a NumPy <c>.npy</c> file (format 1.0–3.0, C order, little-endian numbers) as an Open Inference Protocol input
/// tensor, so <c>edgectl infer</c> takes arrays saved with <c>numpy.save</c>.
/// </summary>
internal static partial class NpyFile
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    [GeneratedRegex(@"'descr'\s*:\s*'(?<descr>[^']+)'.*'fortran_order'\s*:\s*(?<fortran>True|False).*'shape'\s*:\s*\((?<shape>[^)]*)\)", RegexOptions.Singleline | RegexOptions.CultureInvariant)]
    private static partial Regex Header();

    /// <summary>One array as the file holds it: Open Inference Protocol datatype, shape, element size and the raw data.</summary>
    internal sealed record NpyArray(string Datatype, long[] Shape, int ElementSize, long Count, ReadOnlyMemory<byte> Data)
    {
        /// <summary>Each element as a double (BOOL as 0/1; 64-bit integers beyond 2^53 lose precision).</summary>
        public double[] ToDoubles()
        {
            var values = new double[Count];
            var data = Data.Span;
            for (var i = 0; i < values.Length; i++)
            {
                var e = data.Slice(i * ElementSize, ElementSize);
                values[i] = Datatype switch
                {
                    "FP32" => BinaryPrimitives.ReadSingleLittleEndian(e),
                    "FP64" => BinaryPrimitives.ReadDoubleLittleEndian(e),
                    "FP16" => (double)BinaryPrimitives.ReadHalfLittleEndian(e),
                    "INT8" => (sbyte)e[0],
                    "INT16" => BinaryPrimitives.ReadInt16LittleEndian(e),
                    "INT32" => BinaryPrimitives.ReadInt32LittleEndian(e),
                    "INT64" => BinaryPrimitives.ReadInt64LittleEndian(e),
                    "UINT8" => e[0],
                    "UINT16" => BinaryPrimitives.ReadUInt16LittleEndian(e),
                    "UINT32" => BinaryPrimitives.ReadUInt32LittleEndian(e),
                    "UINT64" => BinaryPrimitives.ReadUInt64LittleEndian(e),
                    _ => e[0] != 0 ? 1 : 0,
                };
            }

            return values;
        }
    }

    /// <summary>Reads the array in <paramref name="path"/>, checking the header and that the data fills the shape.</summary>
    public static NpyArray Read(string path)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < 10 || !bytes.AsSpan(0, 6).SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path} is not a .npy file (no \\x93NUMPY header)");
        }

        var major = bytes[6];
        int headerLength, offset;
        if (major == 1)
        {
            headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
            offset = 10;
        }
        else if (major is 2 or 3 && bytes.Length >= 12)
        {
            headerLength = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(8, 4));
            offset = 12;
        }
        else
        {
            throw new InvalidDataException($"{path}: .npy format version {major} is not supported");
        }

        if (offset + headerLength > bytes.Length)
        {
            throw new InvalidDataException($"{path}: the .npy header is truncated");
        }

        var header = Encoding.Latin1.GetString(bytes, offset, headerLength);
        var match = Header().Match(header);
        if (!match.Success)
        {
            throw new InvalidDataException($"{path}: the .npy header cannot be read ({header.Trim()})");
        }

        if (match.Groups["fortran"].Value == "True")
        {
            throw new InvalidDataException($"{path} is in Fortran order; save it with numpy.ascontiguousarray first");
        }

        var shape = match.Groups["shape"].Value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(d => long.Parse(d, CultureInfo.InvariantCulture)).ToArray();
        var descr = match.Groups["descr"].Value;
        var (datatype, size) = descr switch
        {
            "<f4" => ("FP32", 4),
            "<f8" => ("FP64", 8),
            "<f2" => ("FP16", 2),
            "|i1" or "<i1" => ("INT8", 1),
            "<i2" => ("INT16", 2),
            "<i4" => ("INT32", 4),
            "<i8" => ("INT64", 8),
            "|u1" or "<u1" => ("UINT8", 1),
            "<u2" => ("UINT16", 2),
            "<u4" => ("UINT32", 4),
            "<u8" => ("UINT64", 8),
            "|b1" => ("BOOL", 1),
            _ => throw new InvalidDataException($"{path}: dtype '{descr}' is not supported (little-endian numbers and bool only)"),
        };
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes.AsMemory(offset + headerLength);
        if (data.Length != count * size)
        {
            throw new InvalidDataException($"{path}: shape ({string.Join(", ", shape)}) of {descr} needs {count * size} bytes of data, the file has {data.Length}");
        }

        return new NpyArray(datatype, shape, size, count, data);
    }

    /// <summary>Writes <c>{"name","datatype","shape","data"}</c> for the array in <paramref name="path"/>.</summary>
    public static void WriteInput(Utf8JsonWriter writer, string name, string path)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var (datatype, shape, size, count, memory) = Read(path);
        var data = memory.Span;
        writer.WriteStartObject();
        writer.WriteString("name", name);
        writer.WriteString("datatype", datatype);
        writer.WriteStartArray("shape");
        foreach (var d in shape)
        {
            writer.WriteNumberValue(d);
        }

        writer.WriteEndArray();
        writer.WriteStartArray("data");
        for (var i = 0; i < count; i++)
        {
            var e = data.Slice(i * size, size);
            switch (datatype)
            {
                case "FP32": writer.WriteNumberValue(BinaryPrimitives.ReadSingleLittleEndian(e)); break;
                case "FP64": writer.WriteNumberValue(BinaryPrimitives.ReadDoubleLittleEndian(e)); break;
                case "FP16": writer.WriteNumberValue((float)BinaryPrimitives.ReadHalfLittleEndian(e)); break;
                case "INT8": writer.WriteNumberValue((sbyte)e[0]); break;
                case "INT16": writer.WriteNumberValue(BinaryPrimitives.ReadInt16LittleEndian(e)); break;
                case "INT32": writer.WriteNumberValue(BinaryPrimitives.ReadInt32LittleEndian(e)); break;
                case "INT64": writer.WriteNumberValue(BinaryPrimitives.ReadInt64LittleEndian(e)); break;
                case "UINT8": writer.WriteNumberValue(e[0]); break;
                case "UINT16": writer.WriteNumberValue(BinaryPrimitives.ReadUInt16LittleEndian(e)); break;
                case "UINT32": writer.WriteNumberValue(BinaryPrimitives.ReadUInt32LittleEndian(e)); break;
                case "UINT64": writer.WriteNumberValue(BinaryPrimitives.ReadUInt64LittleEndian(e)); break;
                default: writer.WriteBooleanValue(e[0] != 0); break;
            }
        }

        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
