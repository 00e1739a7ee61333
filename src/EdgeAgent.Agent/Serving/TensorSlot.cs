using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// One tensor of a fixed element type in a pinned managed buffer, with an OrtValue over that buffer. It is reused from
/// request to request: while the shape stays the same, filling it and running the model on it allocates nothing. A new
/// shape re-creates the OrtValue (and grows the buffer when it must).
/// </summary>
internal sealed class TensorSlot : IDisposable
{
    private byte[] _buffer = [];
    private OrtValue? _value;

    public TensorSlot(string name, TensorElementType type)
    {
        Name = name;
        Type = type;
        Datatype = OnnxModel.DatatypeOf(type);
        ElementSize = SizeOf(type);
    }

    public string Name { get; }

    public TensorElementType Type { get; }

    /// <summary>The protocol's name of <see cref="Type"/> (<c>FP32</c>, <c>INT64</c>, ...).</summary>
    public string Datatype { get; }

    /// <summary>Bytes per element; 0 for element types the API does not carry (strings).</summary>
    public int ElementSize { get; }

    public long[] Shape { get; private set; } = [];

    public long Count { get; private set; }

    public int ByteLength => (int)(Count * ElementSize);

    /// <summary>Bytes held by the buffer (at least <see cref="ByteLength"/>).</summary>
    public int Capacity => _buffer.Length;

    public OrtValue Value => _value ?? throw new InvalidOperationException($"tensor '{Name}' has no shape yet");

    /// <summary>The elements in row-major order, little-endian, as the binary tensor extension carries them.</summary>
    public Span<byte> Bytes => _buffer.AsSpan(0, ByteLength);

    public Span<T> As<T>()
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes);

    /// <summary>True when the slot already holds a tensor of exactly this shape.</summary>
    public bool Holds(ReadOnlySpan<long> shape) => _value is not null && shape.SequenceEqual(Shape);

    /// <summary>Gives the slot a new shape of <paramref name="count"/> elements; the contents are undefined afterwards.</summary>
    public void Reshape(ReadOnlySpan<long> shape, long count)
    {
        if (ElementSize == 0)
        {
            throw new InferenceException($"'{Name}' has element type {Type}, which this API does not carry");
        }

        _value?.Dispose();
        _value = null;
        var bytes = checked((int)(count * ElementSize));
        if (_buffer.Length < bytes)
        {
            // Pinned (the pinned object heap): ORT keeps the buffer's address for as long as the OrtValue lives.
            _buffer = GC.AllocateUninitializedArray<byte>(bytes, pinned: true);
        }

        Shape = shape.ToArray();
        Count = count;
        _value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, Type, Shape, Marshal.UnsafeAddrOfPinnedArrayElement(_buffer, 0), bytes);
    }

    public static int SizeOf(TensorElementType type) => type switch
    {
        TensorElementType.Bool or TensorElementType.Int8 or TensorElementType.UInt8 => 1,
        TensorElementType.Int16 or TensorElementType.UInt16 or TensorElementType.Float16 => 2,
        TensorElementType.Int32 or TensorElementType.UInt32 or TensorElementType.Float => 4,
        TensorElementType.Int64 or TensorElementType.UInt64 or TensorElementType.Double => 8,
        _ => 0,
    };

    public void Dispose()
    {
        _value?.Dispose();
        _value = null;
    }
}
