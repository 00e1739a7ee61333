using System.Globalization;
using System.Text;

namespace EdgeAgent.Core.Bundles;

/// <summary>DSSE pre-authentication encoding: the exact bytes that are signed.</summary>
public static class Dsse
{
    /// <summary><c>"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body</c>, lengths as ASCII decimal byte counts.</summary>
    public static byte[] PreAuthEncoding(string payloadType, ReadOnlySpan<byte> payload)
    {
        var type = Encoding.UTF8.GetBytes(payloadType);
        var header = Encoding.UTF8.GetBytes(string.Create(
            CultureInfo.InvariantCulture, $"DSSEv1 {type.Length} {payloadType} {payload.Length} "));
        var result = new byte[header.Length + payload.Length];
        header.CopyTo(result, 0);
        payload.CopyTo(result.AsSpan(header.Length));
        return result;
    }
}
