using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>A read-only look at one tensor of a served request: row-major, little-endian bytes of its element type.</summary>
public readonly ref struct TensorView
{
    public TensorView(string name, TensorElementType type, ReadOnlySpan<long> shape, ReadOnlySpan<byte> bytes)
    {
        Name = name;
        Type = type;
        Shape = shape;
        Bytes = bytes;
    }

    public string Name { get; }

    /// <summary><c>default</c> (0) for a tensor the API cannot carry (strings, sequences, maps); then it is empty.</summary>
    public TensorElementType Type { get; }

    public ReadOnlySpan<long> Shape { get; }

    public ReadOnlySpan<byte> Bytes { get; }

    public bool IsEmpty => Bytes.IsEmpty;

    /// <summary>Element count.</summary>
    public int Count => TensorSlot.SizeOf(Type) is var size and > 0 ? Bytes.Length / size : 0;

    /// <summary>Elements per sample: the product of the dimensions after the first (1 for a rank-0 or rank-1 tensor).</summary>
    public int PerSample
    {
        get
        {
            long per = 1;
            for (var i = 1; i < Shape.Length; i++)
            {
                per *= Shape[i];
            }

            return (int)per;
        }
    }

    /// <summary>Element <paramref name="index"/> (row-major) as a double; BOOL is 0 or 1.</summary>
    public double At(int index) => Type switch
    {
        TensorElementType.Float => MemoryMarshal.Cast<byte, float>(Bytes)[index],
        TensorElementType.Double => MemoryMarshal.Cast<byte, double>(Bytes)[index],
        TensorElementType.Float16 => (double)MemoryMarshal.Cast<byte, Half>(Bytes)[index],
        TensorElementType.Int8 => (sbyte)Bytes[index],
        TensorElementType.UInt8 => Bytes[index],
        TensorElementType.Bool => Bytes[index] == 0 ? 0 : 1,
        TensorElementType.Int16 => MemoryMarshal.Cast<byte, short>(Bytes)[index],
        TensorElementType.UInt16 => MemoryMarshal.Cast<byte, ushort>(Bytes)[index],
        TensorElementType.Int32 => MemoryMarshal.Cast<byte, int>(Bytes)[index],
        TensorElementType.UInt32 => MemoryMarshal.Cast<byte, uint>(Bytes)[index],
        TensorElementType.Int64 => MemoryMarshal.Cast<byte, long>(Bytes)[index],
        TensorElementType.UInt64 => MemoryMarshal.Cast<byte, ulong>(Bytes)[index],
        _ => double.NaN,
    };
}
