using System.Text;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Tests.Infrastructure;

namespace EdgeAgent.Fleet.Tests.Keys;

/// <summary>Keys, key ids and signatures agree with openssl, so a bundle can be made and checked without our tools.</summary>
public sealed class OpensslInteropTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    private string OpensslKey(string name = "ops")
    {
        Tool.Run(_dir.Path, "openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", name + ".key.pem");
        Tool.Run(_dir.Path, "openssl", "pkey", "-in", name + ".key.pem", "-pubout", "-out", name + ".pub.pem");
        return _dir.File(name + ".key.pem");
    }

    private string Sha256sum(string file) =>
        Tool.RunText(_dir.Path, "sha256sum", file).Split(' ', 2)[0];

    /// <summary>The DSSE PAE written out by hand: "DSSEv1" SP len(type) SP type SP len(body) SP body.</summary>
    private static byte[] Pae(string payloadType, byte[] payload) =>
        [.. Encoding.ASCII.GetBytes($"DSSEv1 {payloadType.Length} {payloadType} {payload.Length} "), .. payload];

    private static string Envelope(byte[] payload, string keyId, byte[] derSignature) => $$"""
        {
          "payloadType": "{{DsseEnvelope.ManifestPayloadType}}",
          "payload": "{{Convert.ToBase64String(payload)}}",
          "signatures": [ { "keyid": "{{keyId}}", "sig": "{{Convert.ToBase64String(derSignature)}}" } ]
        }
        """;

    private static string Manifest(string sha256, long length) => $$"""
        {
          "schema": "edgeagent.manifest/v1",
          "name": "vibration",
          "version": "1.0.0",
          "created": "2025-06-01T00:00:00Z",
          "expires": "2025-07-01T00:00:00Z",
          "model": "model.onnx",
          "files": [ { "path": "model.onnx", "sha256": "{{sha256}}", "length": {{length}}, "chunkSize": 65536, "chunks": [ "{{sha256}}" ] } ]
        }
        """;

    [Fact]
    public void Openssl_generated_key_signs_a_bundle_that_verifies()
    {
        Tool.Require("openssl");
        using var key = SigningKeys.LoadPrivate(OpensslKey());
        using var trust = new TrustedKeys();
        trust.AddPem(File.ReadAllText(_dir.File("ops.pub.pem")));

        var result = BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = Samples.VibrationModel,
            Name = "vibration",
            Version = "1.0.0",
            Keys = [key],
            OutPath = _dir.File("vibration-1.0.0.edgebundle"),
            Now = Now,
        });

        var verified = BundleFileVerifier.Verify(result.Path, trust, Now);
        Assert.Equal("vibration", verified.Manifest.Name);
    }

    [Fact]
    public void Key_id_of_an_openssl_key_is_sha256sum_of_its_der_public_key()
    {
        Tool.Require("openssl", "sha256sum");
        using var key = SigningKeys.LoadPrivate(OpensslKey());
        Tool.Run(_dir.Path, "openssl", "pkey", "-pubin", "-in", "ops.pub.pem", "-outform", "DER", "-out", "ops.pub.der");

        Assert.Equal(Sha256sum("ops.pub.der"), KeyIds.Of(key));
    }

    [Fact]
    public void Key_id_of_a_generated_key_is_sha256sum_of_its_der_public_key()
    {
        Tool.Require("openssl", "sha256sum");
        var files = SigningKeys.Generate(_dir.Path, "release");
        Tool.Run(_dir.Path, "openssl", "pkey", "-pubin", "-in", "release.pub.pem", "-outform", "DER", "-out", "release.pub.der");

        Assert.Equal(Sha256sum("release.pub.der"), files.KeyId);
    }

    [Fact]
    public void Generated_private_key_is_readable_by_openssl()
    {
        Tool.Require("openssl");
        var files = SigningKeys.Generate(_dir.Path, "release");

        var pub = Tool.RunText(_dir.Path, "openssl", "pkey", "-in", files.PrivateKeyPath, "-pubout");

        Assert.Equal(File.ReadAllText(files.PublicKeyPath), pub);
    }

    [Fact]
    public void Openssl_dgst_signature_over_the_pae_verifies()
    {
        Tool.Require("openssl");
        var keyPath = OpensslKey();
        using var trust = new TrustedKeys();
        var keyId = trust.AddPem(File.ReadAllText(_dir.File("ops.pub.pem")));
        var payload = Encoding.UTF8.GetBytes(Manifest(new string('a', 64), 10));
        var pae = Pae(DsseEnvelope.ManifestPayloadType, payload);
        Assert.Equal(Dsse.PreAuthEncoding(DsseEnvelope.ManifestPayloadType, payload), pae);
        File.WriteAllBytes(_dir.File("pae.bin"), pae);

        var der = Tool.Run(_dir.Path, "openssl", "dgst", "-sha256", "-sign", keyPath, "pae.bin");

        var manifest = ManifestVerifier.Verify(Encoding.UTF8.GetBytes(Envelope(payload, keyId, der)), trust, new VerificationPolicy(), Now);
        Assert.Equal(("vibration", "1.0.0"), (manifest.Name, manifest.Version));
    }

    [Fact]
    public void Signer_signature_verifies_with_openssl_dgst()
    {
        Tool.Require("openssl");
        var files = SigningKeys.Generate(_dir.Path, "release");
        using var key = SigningKeys.LoadPrivate(files.PrivateKeyPath);
        var envelope = ManifestSigner.Sign(new BundleManifest { Name = "vibration", Version = "1.0.0", Model = "m", Files = [] }, [key]);
        File.WriteAllBytes(_dir.File("pae.bin"), Dsse.PreAuthEncoding(envelope.PayloadType, Convert.FromBase64String(envelope.Payload)));
        File.WriteAllBytes(_dir.File("sig.der"), Convert.FromBase64String(envelope.Signatures.Single().Sig));

        var output = Tool.RunText(_dir.Path, "openssl", "dgst", "-sha256", "-verify", files.PublicKeyPath, "-signature", "sig.der", "pae.bin");

        Assert.Contains("Verified OK", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_made_with_tar_sha256sum_and_openssl_alone_verifies()
    {
        // The recipe of design.md section 3: no EdgeAgent code makes any byte of this bundle.
        Tool.Require("openssl", "sha256sum", "tar");
        OpensslKey();
        File.Copy(Samples.VibrationModel, _dir.File("model.onnx"));
        Tool.Run(_dir.Path, "openssl", "pkey", "-pubin", "-in", "ops.pub.pem", "-outform", "DER", "-out", "ops.pub.der");
        var keyId = Sha256sum("ops.pub.der");
        var payload = Encoding.UTF8.GetBytes(Manifest(Sha256sum("model.onnx"), new FileInfo(_dir.File("model.onnx")).Length));
        File.WriteAllBytes(_dir.File("pae.bin"), Pae(DsseEnvelope.ManifestPayloadType, payload));
        var der = Tool.Run(_dir.Path, "openssl", "dgst", "-sha256", "-sign", "ops.key.pem", "pae.bin");
        File.WriteAllText(_dir.File("envelope.json"), Envelope(payload, keyId, der));
        Tool.Run(_dir.Path, "tar", "-cf", "vibration-1.0.0.edgebundle", "envelope.json", "model.onnx");
        using var trust = new TrustedKeys();
        trust.AddPem(File.ReadAllText(_dir.File("ops.pub.pem")));

        var verified = BundleFileVerifier.Verify(_dir.File("vibration-1.0.0.edgebundle"), trust, Now);

        Assert.Equal(keyId, verified.SignedBy);
        Assert.Equal(new FileInfo(_dir.File("model.onnx")).Length, verified.Manifest.ModelFile!.Length);
    }
}
