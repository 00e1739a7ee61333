using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Bundles;

namespace EdgeAgent.Fleet.Tests.Bundles;

/// <summary>
/// Random damage to a real .edgebundle tar: verification refuses it with a reason (never another exception), and
/// never accepts file content other than what the manifest signed. Opt-in long run:
/// <c>EDGEAGENT_FUZZ_CASES=100000 dotnet test tests/EdgeAgent.Fleet.Tests --filter FullyQualifiedName~Fuzz</c>.
/// </summary>
public sealed class ArchiveFuzzTests : IDisposable
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("EDGEAGENT_FUZZ_CASES"), out var n) && n > 0 ? n : 300;

    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-fuzz-").FullName;

    [Fact]
    public void Damaged_bundle_tars_are_refused_with_a_reason()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var model = Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx");
        var bundle = BundleBuilder.Create(new BundleBuilder.Request { ModelPath = model, Name = "vibration", Version = "1.0.0", Keys = [key], OutPath = Path.Combine(_work, "ok.edgebundle"), ChunkSize = 256 });
        var original = File.ReadAllBytes(bundle.Path);
        var modelBytes = File.ReadAllBytes(model);
        using var trust = new TrustedKeys();
        trust.AddPem(key.ExportSubjectPublicKeyInfoPem());
        var random = new Random(99);
        var path = Path.Combine(_work, "fuzz.edgebundle");
        for (var i = 0; i < Cases; i++)
        {
            var bytes = (byte[])original.Clone();
            var edits = random.Next(1, 4);
            for (var e = 0; e < edits; e++)
            {
                var at = random.Next(bytes.Length);
                if (random.Next(4) == 0)
                {
                    Array.Resize(ref bytes, at);
                    break;
                }

                bytes[at] = (byte)random.Next(256);
            }

            File.WriteAllBytes(path, bytes);
            try
            {
                var verified = BundleFileVerifier.Verify(path, trust, DateTimeOffset.UtcNow);
                byte[]? accepted = null;
                BundleArchive.ForEachFile(path, verified.Manifest, (_, data) =>
                {
                    using var copy = new MemoryStream();
                    data.CopyTo(copy);
                    accepted = copy.ToArray();
                });
                Assert.Equal(modelBytes, accepted);
            }
            catch (BundleRejectedException)
            {
                // Refused with a reason.
            }
        }
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
