namespace EdgeAgent.Core.Bundles;

/// <summary>Open Inference Protocol (KServe v2) tensor datatype names.</summary>
public static class TensorDatatypes
{
    public const string Bool = "BOOL";
    public const string UInt8 = "UINT8";
    public const string UInt16 = "UINT16";
    public const string UInt32 = "UINT32";
    public const string UInt64 = "UINT64";
    public const string Int8 = "INT8";
    public const string Int16 = "INT16";
    public const string Int32 = "INT32";
    public const string Int64 = "INT64";
    public const string Fp16 = "FP16";
    public const string Fp32 = "FP32";
    public const string Fp64 = "FP64";
    public const string Bytes = "BYTES";

    /// <summary>Maps an ONNX element type name (as ONNX Runtime's <c>TensorElementType</c> spells it) to the protocol name.</summary>
    public static string FromOnnxElementType(string onnxName)
    {
        ArgumentNullException.ThrowIfNull(onnxName);
        return onnxName switch
        {
            "Float" => Fp32,
            "Double" => Fp64,
            "Float16" => Fp16,
            "Bool" => Bool,
            "String" => Bytes,
            "BFloat16" => "BF16",
            _ => onnxName.ToUpperInvariant(),
        };
    }
}
