using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;
using EdgeAgent.Fleet.Tests.Infrastructure;

namespace EdgeAgent.Fleet.Tests.Bundles;

public sealed class BundleBuilderTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2025, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly TempDir _dir = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly TrustedKeys _trust = new();

    public BundleBuilderTests() => _trust.AddPem(_key.ExportSubjectPublicKeyInfoPem());

    public void Dispose()
    {
        _trust.Dispose();
        _key.Dispose();
        _dir.Dispose();
    }

    private BundleBuilder.Result Build(string? model = null, int chunkSize = ChunkTable.DefaultChunkSize, TimeSpan? validFor = null, IReadOnlyList<string>? architectures = null) =>
        BundleBuilder.Create(new BundleBuilder.Request
        {
            ModelPath = model ?? Samples.VibrationModel,
            Name = "vibration",
            Version = "1.0.0",
            Keys = [_key],
            OutPath = _dir.File("out/vibration-1.0.0.edgebundle"),
            ChunkSize = chunkSize,
            ValidFor = validFor,
            Architectures = architectures ?? [],
            Now = Now,
        });

    private BundleFileVerifier.Verified Verify(string path, VerificationPolicy? policy = null, TrustedKeys? trust = null) =>
        BundleFileVerifier.Verify(path, trust ?? _trust, Now, policy);

    private BundleRejectedException Rejected(string path, VerificationPolicy? policy = null, TrustedKeys? trust = null) =>
        Assert.Throws<BundleRejectedException>(() => Verify(path, policy, trust));

    /// <summary>Flips one byte of the model where it lies inside the tar file, as a bad disk or a tamperer would.</summary>
    private static void FlipModelByte(string bundlePath, int offsetInModel)
    {
        var model = File.ReadAllBytes(Samples.VibrationModel);
        var tar = File.ReadAllBytes(bundlePath);
        var at = tar.AsSpan().IndexOf(model);
        Assert.True(at > 0, "model bytes not found in the bundle");
        tar[at + offsetInModel] ^= 0x01;
        File.WriteAllBytes(bundlePath, tar);
    }

    [Fact]
    public void Manifest_describes_the_models_inputs_and_outputs()
    {
        var manifest = Build().Manifest;

        Assert.Equal([new TensorSpec("features", TensorDatatypes.Fp32, [-1, 8])], manifest.Inputs, SpecComparer.Instance);
        Assert.Equal(
            [new TensorSpec("probabilities", TensorDatatypes.Fp32, [-1, 3]), new TensorSpec("label", TensorDatatypes.Int64, [-1])],
            manifest.Outputs,
            SpecComparer.Instance);
    }

    [Fact]
    public void Manifest_lists_the_model_with_its_length_and_sha256()
    {
        var model = File.ReadAllBytes(Samples.VibrationModel);

        var manifest = Build().Manifest;

        var file = Assert.Single(manifest.Files);
        Assert.Equal(BundleBuilder.ModelFileName, manifest.Model);
        Assert.Equal(BundleBuilder.ModelFileName, file.Path);
        Assert.Equal(model.Length, file.Length);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(model)), file.Sha256);
        Assert.Equal(("vibration", "1.0.0", Now), (manifest.Name, manifest.Version, manifest.Created));
        Assert.Null(manifest.Expires);
    }

    [Fact]
    public void Bundle_file_holds_the_envelope_and_the_model()
    {
        var result = Build();

        var entries = TarFiles.Read(result.Path);

        Assert.Equal([BundleArchive.EnvelopeEntry, BundleBuilder.ModelFileName], entries.Select(e => e.Name));
        Assert.Equal(result.Envelope, entries[0].Data);
        Assert.Equal(File.ReadAllBytes(Samples.VibrationModel), entries[1].Data);
        Assert.False(File.Exists(result.Path + ".tmp"));
    }

    [Fact]
    public void Built_bundle_verifies()
    {
        var result = Build();

        var verified = Verify(result.Path, new VerificationPolicy { ExpectedName = "vibration", ExpectedVersion = "1.0.0", Architecture = "x64" });

        Assert.Equal("vibration", verified.Manifest.Name);
        Assert.Equal("1.0.0", verified.Manifest.Version);
        Assert.Equal(result.Manifest.Files.Single().Sha256, verified.Manifest.ModelFile!.Sha256);
        Assert.Equal(KeyIds.Of(_key), verified.SignedBy);
    }

    [Fact]
    public void Bundle_with_a_flipped_model_byte_is_rejected_as_hash_mismatch()
    {
        var result = Build();
        FlipModelByte(result.Path, offsetInModel: 600);

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.HashMismatch, ex.Reason);
    }

    [Fact]
    public void Tampered_chunk_is_rejected_naming_the_chunk()
    {
        var result = Build(chunkSize: 256);
        Assert.Equal(6, result.Manifest.ModelFile!.Chunks.Count); // 1286 bytes in 256-byte chunks
        FlipModelByte(result.Path, offsetInModel: (2 * 256) + 17);

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.HashMismatch, ex.Reason);
        Assert.Contains("chunk 2 of 'model.onnx'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_verified_against_a_different_key_is_rejected_as_unknown_key()
    {
        var result = Build();
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var otherTrust = new TrustedKeys();
        otherTrust.AddPem(other.ExportSubjectPublicKeyInfoPem());

        var ex = Rejected(result.Path, trust: otherTrust);

        Assert.Equal(RejectionReason.UnknownKey, ex.Reason);
    }

    [Fact]
    public void Bundle_past_its_validity_is_rejected_as_expired()
    {
        var result = Build(validFor: TimeSpan.FromDays(7));
        Assert.Equal(Now.AddDays(7), result.Manifest.Expires);

        var ex = Assert.Throws<BundleRejectedException>(() => BundleFileVerifier.Verify(result.Path, _trust, Now.AddDays(8)));

        Assert.Equal(RejectionReason.Expired, ex.Reason);
    }

    [Fact]
    public void Bundle_for_another_architecture_is_rejected()
    {
        var result = Build(architectures: ["arm64"]);

        var ex = Rejected(result.Path, new VerificationPolicy { Architecture = "x64" });

        Assert.Equal(RejectionReason.WrongArchitecture, ex.Reason);
    }

    [Fact]
    public void Bundle_with_a_file_the_manifest_does_not_list_is_rejected()
    {
        var result = Build();
        TarFiles.Write(result.Path, [.. TarFiles.Read(result.Path), ("extra.bin", [1, 2, 3])]);

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("extra.bin", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_missing_its_model_is_rejected()
    {
        var result = Build();
        TarFiles.Write(result.Path, TarFiles.Read(result.Path).Where(e => e.Name == BundleArchive.EnvelopeEntry));

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("model.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bundle_with_a_truncated_model_is_rejected_as_length_mismatch()
    {
        var result = Build();
        TarFiles.Write(result.Path, TarFiles.Read(result.Path).Select(e => e.Name == BundleBuilder.ModelFileName ? (e.Name, e.Data[..^1]) : e));

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.LengthMismatch, ex.Reason);
    }

    [Fact]
    public void Bundle_without_an_envelope_is_rejected()
    {
        var result = Build();
        TarFiles.Write(result.Path, TarFiles.Read(result.Path).Where(e => e.Name != BundleArchive.EnvelopeEntry));

        var ex = Rejected(result.Path);

        Assert.Equal(RejectionReason.MalformedEnvelope, ex.Reason);
    }

    [Fact]
    public void Signed_by_lists_only_keys_whose_signature_verifies()
    {
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        _trust.AddPem(second.ExportSubjectPublicKeyInfoPem());
        var result = Build();
        var envelope = JsonSerializer.Deserialize<DsseEnvelope>(result.Envelope, CoreJson.Options)!;
        var forged = envelope with { Signatures = [.. envelope.Signatures, new DsseSignature(KeyIds.Of(second), envelope.Signatures[0].Sig)] };
        TarFiles.Write(result.Path, TarFiles.Read(result.Path).Select(e => e.Name == BundleArchive.EnvelopeEntry ? (e.Name, JsonSerializer.SerializeToUtf8Bytes(forged, CoreJson.Options)) : e));

        var verified = Verify(result.Path);

        Assert.Equal(KeyIds.Of(_key), verified.SignedBy);
    }

    [Fact]
    public void Non_onnx_file_as_model_is_refused_with_a_clear_message()
    {
        var notAModel = _dir.File("notes.onnx");
        File.WriteAllText(notAModel, "this is a text file, not a model\n", Encoding.UTF8);

        var ex = Assert.Throws<InvalidDataException>(() => Build(model: notAModel));

        Assert.Contains(notAModel, ex.Message, StringComparison.Ordinal);
        Assert.Contains("is not a model ONNX Runtime can load", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
        Assert.False(File.Exists(_dir.File("out/vibration-1.0.0.edgebundle")));
    }

    [Fact]
    public void Missing_model_file_is_reported_with_its_path()
    {
        var ex = Assert.Throws<FileNotFoundException>(() => Build(model: _dir.File("absent.onnx")));

        Assert.Contains("absent.onnx", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Vibration", "1.0.0")]
    [InlineData("vibration", "1.0")]
    public void Invalid_name_or_version_is_refused_before_anything_is_written(string name, string version)
    {
        var request = new BundleBuilder.Request
        {
            ModelPath = Samples.VibrationModel,
            Name = name,
            Version = version,
            Keys = [_key],
            OutPath = _dir.File("bad.edgebundle"),
        };

        Assert.Throws<ArgumentException>(() => BundleBuilder.Create(request));
        Assert.False(File.Exists(request.OutPath));
    }

    private sealed class SpecComparer : IEqualityComparer<TensorSpec>
    {
        public static readonly SpecComparer Instance = new();

        public bool Equals(TensorSpec? x, TensorSpec? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Datatype == y.Datatype && x.Shape.SequenceEqual(y.Shape);

        public int GetHashCode(TensorSpec obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
