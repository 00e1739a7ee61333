using System.Text;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class DsseTests
{
    [Fact]
    public void Pre_authentication_encoding_matches_the_dsse_spec_example()
    {
        // https://github.com/secure-systems-lab/dsse/blob/master/protocol.md (test vector).
        var pae = Dsse.PreAuthEncoding("http://example.com/HelloWorld", "hello world"u8);

        Assert.Equal("DSSEv1 29 http://example.com/HelloWorld 11 hello world"u8.ToArray(), pae);
    }

    [Fact]
    public void Pre_authentication_encoding_counts_payload_bytes_and_keeps_them_verbatim()
    {
        byte[] payload = [0x00, 0xff, 0x20, 0xc3, 0xa9];

        var pae = Dsse.PreAuthEncoding("t", payload);

        Assert.Equal([.. "DSSEv1 1 t 5 "u8, .. payload], pae);
    }

    [Fact]
    public void Pre_authentication_encoding_of_an_empty_payload_ends_with_zero_length()
    {
        var pae = Dsse.PreAuthEncoding(DsseEnvelope.ManifestPayloadType, []);

        Assert.Equal(Encoding.ASCII.GetBytes($"DSSEv1 39 {DsseEnvelope.ManifestPayloadType} 0 "), pae);
    }

    [Fact]
    public void Pre_authentication_encoding_writes_a_non_ascii_payload_type_as_utf8()
    {
        var pae = Dsse.PreAuthEncoding("t\u00e9", "x"u8);

        Assert.Equal([.. "DSSEv1 3 t"u8, 0xc3, 0xa9, .. " 1 x"u8], pae);
    }
}
