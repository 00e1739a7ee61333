using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Core.Bundles;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class ManifestVerifierTests
{
    [Fact]
    public void Signed_manifest_verifies_and_comes_back_unchanged()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest();

        var verified = Verify(Signed(manifest, key), trust);

        Assert.Equal(manifest.Name, verified.Name);
        Assert.Equal(manifest.Version, verified.Version);
        Assert.Equal(manifest.Expires, verified.Expires);
        Assert.Equal(manifest.Architectures, verified.Architectures);
        Assert.Equal(manifest.Files.Single().Sha256, verified.ModelFile!.Sha256);
        Assert.Equal(manifest.Files.Single().Chunks, verified.ModelFile.Chunks);
        Assert.Equal(manifest.Inputs.Single().Shape, verified.Inputs.Single().Shape);
    }

    [Fact]
    public void Signature_carries_the_key_id_and_a_der_signature()
    {
        using var key = NewKey();

        var envelope = ManifestSigner.Sign(Manifest(), [key]);

        var signature = Assert.Single(envelope.Signatures);
        Assert.Equal(KeyIds.Of(key), signature.KeyId);
        Assert.Equal(DsseEnvelope.ManifestPayloadType, envelope.PayloadType);
        var der = Convert.FromBase64String(signature.Sig);
        Assert.Equal(0x30, der[0]); // ASN.1 SEQUENCE { r, s }
        var pae = Dsse.PreAuthEncoding(envelope.PayloadType, Convert.FromBase64String(envelope.Payload));
        Assert.True(key.VerifyData(pae, der, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence));
    }

    [Fact]
    public void One_trusted_signature_among_unknown_ones_is_enough()
    {
        using var stranger = NewKey();
        using var trusted = NewKey();
        using var trust = Trust(trusted);

        var envelope = Serialize(ManifestSigner.Sign(Manifest(), [stranger, trusted]));

        Assert.Equal("vibration", Verify(envelope, trust).Name);
    }

    [Fact]
    public void Unsigned_manifest_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = ManifestSigner.Sign(Manifest(), [key]) with { Signatures = [] };

        var ex = Rejected(Serialize(envelope), trust);

        Assert.Equal(RejectionReason.Unsigned, ex.Reason);
    }

    [Fact]
    public void Manifest_signed_by_an_unknown_key_is_rejected()
    {
        using var signer = NewKey();
        using var other = NewKey();
        using var trust = Trust(other);

        var ex = Rejected(Signed(Manifest(), signer), trust);

        Assert.Equal(RejectionReason.UnknownKey, ex.Reason);
        Assert.Contains(KeyIds.Of(signer)[..12], ex.Message, StringComparison.Ordinal);
        Assert.StartsWith("unknown-key: ", ex.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_with_a_flipped_payload_byte_is_rejected_as_bad_signature()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = ManifestSigner.Sign(Manifest(), [key]);
        var payload = Convert.FromBase64String(envelope.Payload);
        var at = Encoding.UTF8.GetString(payload).IndexOf("1.0.0", StringComparison.Ordinal);
        payload[at] = (byte)'9'; // version 1.0.0 -> 9.0.0, still a valid manifest

        var ex = Rejected(Serialize(envelope with { Payload = Convert.ToBase64String(payload) }), trust);

        Assert.Equal(RejectionReason.BadSignature, ex.Reason);
    }

    [Fact]
    public void Raw_r_and_s_signature_instead_of_der_is_rejected_as_bad_signature()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = ManifestSigner.Sign(Manifest(), [key]);
        var pae = Dsse.PreAuthEncoding(envelope.PayloadType, Convert.FromBase64String(envelope.Payload));
        var raw = key.SignData(pae, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        Assert.Equal(64, raw.Length);

        var ex = Rejected(Serialize(envelope with { Signatures = [new DsseSignature(KeyIds.Of(key), Convert.ToBase64String(raw))] }), trust);

        Assert.Equal(RejectionReason.BadSignature, ex.Reason);
        Assert.Contains("DER", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Signature_that_is_not_base64_is_rejected_as_bad_signature()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = ManifestSigner.Sign(Manifest(), [key]) with { Signatures = [new DsseSignature(KeyIds.Of(key), "not base64!")] };

        var ex = Rejected(Serialize(envelope), trust);

        Assert.Equal(RejectionReason.BadSignature, ex.Reason);
    }

    [Fact]
    public void Envelope_with_another_payload_type_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var envelope = ManifestSigner.Sign(Manifest(), [key]) with { PayloadType = "application/vnd.in-toto+json" };

        var ex = Rejected(Serialize(envelope), trust);

        Assert.Equal(RejectionReason.WrongPayloadType, ex.Reason);
    }

    [Fact]
    public void Payload_type_is_bound_into_the_signature()
    {
        // The bytes were signed as another type and relabelled as a manifest: the signature must not carry over.
        using var key = NewKey();
        using var trust = Trust(key);
        var payload = JsonSerializer.SerializeToUtf8Bytes(Manifest(), CoreJson.Options);
        var sig = key.SignData(Dsse.PreAuthEncoding("application/json", payload), HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence);
        var envelope = new DsseEnvelope
        {
            PayloadType = DsseEnvelope.ManifestPayloadType,
            Payload = Convert.ToBase64String(payload),
            Signatures = [new DsseSignature(KeyIds.Of(key), Convert.ToBase64String(sig))],
        };

        var ex = Rejected(Serialize(envelope), trust);

        Assert.Equal(RejectionReason.BadSignature, ex.Reason);
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("[]")]
    [InlineData("{\"payloadType\":\"application/vnd.edgeagent.manifest+json\"}")]
    public void Envelope_that_is_not_dsse_json_is_rejected_as_malformed(string json)
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Encoding.UTF8.GetBytes(json), trust);

        Assert.Equal(RejectionReason.MalformedEnvelope, ex.Reason);
    }

    [Fact]
    public void Envelope_larger_than_one_megabyte_is_rejected_before_parsing()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(new byte[ManifestVerifier.MaxEnvelopeBytes + 1], trust);

        Assert.Equal(RejectionReason.TooLarge, ex.Reason);
    }

    [Fact]
    public void Expired_manifest_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest() with { Expires = Now.AddSeconds(-1) };

        var ex = Rejected(Signed(manifest, key), trust);

        Assert.Equal(RejectionReason.Expired, ex.Reason);
    }

    [Fact]
    public void Manifest_expiring_exactly_now_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest() with { Expires = Now }, key), trust);

        Assert.Equal(RejectionReason.Expired, ex.Reason);
    }

    [Fact]
    public void Manifest_without_expiry_does_not_expire()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var verified = ManifestVerifier.Verify(Signed(Manifest() with { Expires = null }, key), trust, new VerificationPolicy(), Now.AddYears(50));

        Assert.Null(verified.Expires);
    }

    [Fact]
    public void Manifest_for_another_architecture_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest() with { Architectures = ["arm64"] };

        var ex = Rejected(Signed(manifest, key), trust, new VerificationPolicy { Architecture = "x64" });

        Assert.Equal(RejectionReason.WrongArchitecture, ex.Reason);
        Assert.Contains("arm64", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_without_architectures_runs_anywhere()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var verified = Verify(Signed(Manifest() with { Architectures = [] }, key), trust, new VerificationPolicy { Architecture = "riscv64" });

        Assert.Empty(verified.Architectures);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("/abs")]
    [InlineData("a/../../b")]
    [InlineData("./model.onnx")]
    [InlineData("a//b")]
    [InlineData("a\\..\\b")]
    public void File_path_that_escapes_the_bundle_folder_is_rejected(string path)
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest() with { Model = path, Files = [Entry(path)] };

        var ex = Rejected(Signed(manifest, key), trust);

        Assert.Equal(RejectionReason.UnsafePath, ex.Reason);
    }

    [Fact]
    public void Chunk_table_with_a_missing_chunk_hash_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var file = Entry(chunkSize: 100); // 300 bytes -> 3 chunks
        var manifest = Manifest() with { Files = [file with { Chunks = file.Chunks.Take(2).ToList() }] };

        var ex = Rejected(Signed(manifest, key), trust);

        Assert.Equal(RejectionReason.BadChunkTable, ex.Reason);
        Assert.Contains("expected 3", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunk_size_above_the_device_limit_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest() with { Files = [Entry(chunkSize: 256)] };

        var ex = Rejected(Signed(manifest, key), trust, new VerificationPolicy { MaxChunkSize = 128 });

        Assert.Equal(RejectionReason.BadChunkTable, ex.Reason);
    }

    [Fact]
    public void Manifest_for_another_model_name_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest(name: "pump"), key), trust, new VerificationPolicy { ExpectedName = "vibration" });

        Assert.Equal(RejectionReason.NameMismatch, ex.Reason);
    }

    [Fact]
    public void Manifest_for_another_version_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest(version: "1.0.1"), key), trust, new VerificationPolicy { ExpectedName = "vibration", ExpectedVersion = "1.0.0" });

        Assert.Equal(RejectionReason.VersionMismatch, ex.Reason);
    }

    [Fact]
    public void Manifest_declaring_more_bytes_than_the_device_accepts_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var manifest = Manifest() with { Files = [Entry("model.onnx"), Entry("extra/labels.bin")] }; // 600 bytes in all

        var ex = Rejected(Signed(manifest, key), trust, new VerificationPolicy { MaxBundleBytes = 500 });

        Assert.Equal(RejectionReason.TooLarge, ex.Reason);
        Assert.Contains("600", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chunk_count_beyond_int_range_is_rejected_not_thrown()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var huge = Entry() with { Length = 2L * 1024 * 1024 * 1024, ChunkSize = 1, Chunks = [] };

        var ex = Rejected(Signed(Manifest() with { Files = [huge] }, key), trust);

        Assert.Equal(RejectionReason.TooLarge, ex.Reason);
    }

    [Fact]
    public void Declared_lengths_that_overflow_are_rejected_as_too_large()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var huge = Entry("b.bin") with { Length = long.MaxValue, ChunkSize = 1024 * 1024, Chunks = [] };

        var ex = Rejected(Signed(Manifest() with { Files = [Entry(), huge] }, key), trust);

        Assert.Equal(RejectionReason.TooLarge, ex.Reason);
    }

    [Fact]
    public void Model_missing_from_the_file_list_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest() with { Model = "other.onnx" }, key), trust);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("other.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void File_listed_twice_is_rejected()
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest() with { Files = [Entry(), Entry()] }, key), trust);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("listed twice", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Vibration", "1.0.0")]
    [InlineData("vibration", "1.0")]
    public void Signed_manifest_with_an_invalid_name_or_version_is_rejected(string name, string version)
    {
        using var key = NewKey();
        using var trust = Trust(key);

        var ex = Rejected(Signed(Manifest(name, version), key), trust);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
    }
}
