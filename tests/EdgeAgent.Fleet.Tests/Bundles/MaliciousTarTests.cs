using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;

namespace EdgeAgent.Fleet.Tests.Bundles;

/// <summary>Hand-made malicious .edgebundle tars around a correctly signed manifest: each is refused with its reason.</summary>
public sealed class MaliciousTarTests : IDisposable
{
    private static readonly byte[] Model = [.. Enumerable.Range(0, 1000).Select(i => (byte)(i * 13))];

    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-tar-").FullName;
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);

    private byte[] Envelope()
    {
        using var stream = new MemoryStream(Model);
        var manifest = new BundleManifest { Name = "vibration", Version = "1.0.0", Created = DateTimeOffset.UtcNow, Model = "model.onnx", Files = [ChunkTable.Describe("model.onnx", stream, 256)] };
        return JsonSerializer.SerializeToUtf8Bytes(ManifestSigner.Sign(manifest, [_key]), CoreJson.Options);
    }

    private string Tar(params TarEntry[] entries)
    {
        var path = Path.Combine(_work, $"{Guid.NewGuid():N}.edgebundle");
        using var file = File.Create(path);
        using var writer = new TarWriter(file, TarEntryFormat.Pax);
        foreach (var entry in entries)
        {
            writer.WriteEntry(entry);
        }

        return path;
    }

    private static PaxTarEntry Regular(string name, byte[] data) => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };

    private BundleRejectedException Refused(string bundle)
    {
        using var trust = new TrustedKeys();
        trust.AddPem(_key.ExportSubjectPublicKeyInfoPem());
        return Assert.Throws<BundleRejectedException>(() => BundleFileVerifier.Verify(bundle, trust, DateTimeOffset.UtcNow));
    }

    [Fact]
    public void A_symbolic_link_in_place_of_the_model_is_refused() =>
        Assert.Equal(RejectionReason.UnsafePath, Refused(Tar(Regular("envelope.json", Envelope()), new PaxTarEntry(TarEntryType.SymbolicLink, "model.onnx") { LinkName = "/etc/passwd" })).Reason);

    [Fact]
    public void A_hard_link_is_refused() =>
        Assert.Equal(RejectionReason.UnsafePath, Refused(Tar(Regular("envelope.json", Envelope()), new PaxTarEntry(TarEntryType.HardLink, "model.onnx") { LinkName = "envelope.json" })).Reason);

    [Fact]
    public void A_device_node_is_refused() =>
        Assert.Equal(RejectionReason.UnsafePath, Refused(Tar(Regular("envelope.json", Envelope()), new PaxTarEntry(TarEntryType.CharacterDevice, "model.onnx") { DeviceMajor = 1, DeviceMinor = 3 })).Reason);

    [Theory]
    [InlineData("../model.onnx")]
    [InlineData("/model.onnx")]
    [InlineData("a/../../model.onnx")]
    public void A_path_that_escapes_the_bundle_is_refused(string name) =>
        Assert.Equal(RejectionReason.UnsafePath, Refused(Tar(Regular("envelope.json", Envelope()), Regular(name, Model))).Reason);

    [Fact]
    public void A_duplicate_entry_is_refused()
    {
        var ex = Refused(Tar(Regular("envelope.json", Envelope()), Regular("model.onnx", Model), Regular("model.onnx", Model)));

        Assert.Equal(RejectionReason.MalformedManifest, ex.Reason);
        Assert.Contains("twice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_bytes_than_declared_are_refused_without_reading_them() =>
        Assert.Equal(RejectionReason.LengthMismatch, Refused(Tar(Regular("envelope.json", Envelope()), Regular("model.onnx", [.. Model, .. new byte[50_000]]))).Reason);

    [Fact]
    public void An_envelope_over_the_size_cap_is_refused() =>
        Assert.Equal(RejectionReason.TooLarge, Refused(Tar(Regular("envelope.json", new byte[ManifestVerifier.MaxEnvelopeBytes + 1]), Regular("model.onnx", Model))).Reason);

    [Fact]
    public void A_truncated_tar_is_refused_as_malformed_archive()
    {
        var good = Tar(Regular("envelope.json", Envelope()), Regular("model.onnx", Model));
        var bytes = File.ReadAllBytes(good);
        File.WriteAllBytes(good, bytes[..(bytes.Length / 2)]);

        Assert.Contains(Refused(good).Reason, new[] { RejectionReason.MalformedArchive, RejectionReason.MalformedManifest, RejectionReason.LengthMismatch, RejectionReason.HashMismatch });
    }

    [Fact]
    public void The_same_tar_with_the_real_model_verifies()
    {
        using var trust = new TrustedKeys();
        trust.AddPem(_key.ExportSubjectPublicKeyInfoPem());

        var verified = BundleFileVerifier.Verify(Tar(Regular("envelope.json", Envelope()), Regular("model.onnx", Model)), trust, DateTimeOffset.UtcNow);

        Assert.Equal("vibration", verified.Manifest.Name);
    }

    public void Dispose()
    {
        _key.Dispose();
        Directory.Delete(_work, recursive: true);
    }
}
