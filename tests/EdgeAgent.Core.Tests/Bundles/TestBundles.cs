using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Core.Tests.Bundles;

/// <summary>Real keys, real hashes and real signatures for manifest tests.</summary>
internal static class TestBundles
{
    public static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly byte[] ModelBytes = [.. Enumerable.Range(0, 300).Select(i => (byte)(i * 7))];

    public static ECDsa NewKey() => ECDsa.Create(ECCurve.NamedCurves.nistP256);

    public static BundleFileEntry Entry(string path = "model.onnx", byte[]? content = null, int chunkSize = 128)
    {
        using var stream = new MemoryStream(content ?? ModelBytes);
        return ChunkTable.Describe(path, stream, chunkSize);
    }

    public static BundleManifest Manifest(string name = "vibration", string version = "1.0.0") => new()
    {
        Name = name,
        Version = version,
        Created = Now.AddDays(-1),
        Expires = Now.AddDays(30),
        Architectures = ["x64", "arm64"],
        Model = "model.onnx",
        Files = [Entry()],
        Inputs = [new TensorSpec("features", TensorDatatypes.Fp32, [-1, 8])],
        Outputs = [new TensorSpec("label", TensorDatatypes.Int64, [-1])],
    };

    public static byte[] Serialize(DsseEnvelope envelope) => JsonSerializer.SerializeToUtf8Bytes(envelope, CoreJson.Options);

    public static byte[] Signed(BundleManifest manifest, ECDsa key) => Serialize(ManifestSigner.Sign(manifest, [key]));

    public static TrustedKeys Trust(params ECDsa[] keys)
    {
        var trust = new TrustedKeys();
        foreach (var key in keys)
        {
            trust.AddPem(key.ExportSubjectPublicKeyInfoPem());
        }

        return trust;
    }

    public static BundleManifest Verify(byte[] envelope, TrustedKeys trust, VerificationPolicy? policy = null) =>
        ManifestVerifier.Verify(envelope, trust, policy ?? new VerificationPolicy { Architecture = "x64" }, Now);

    public static BundleRejectedException Rejected(byte[] envelope, TrustedKeys trust, VerificationPolicy? policy = null) =>
        Assert.Throws<BundleRejectedException>(() => Verify(envelope, trust, policy));
}
