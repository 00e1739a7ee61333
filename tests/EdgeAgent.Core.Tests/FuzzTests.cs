using System.Text;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Desired;
using static EdgeAgent.Core.Tests.Bundles.TestBundles;

namespace EdgeAgent.Core.Tests;

/// <summary>
/// Random mutations of valid envelopes, roots and desired-state documents, and random bytes: the readers never crash
/// (only their refusal type), and a mutated envelope is never accepted with other content than what was signed.
/// The normal suite runs a few thousand cases; the long run is opt-in:
/// <c>EDGEAGENT_FUZZ_CASES=100000 dotnet test tests/EdgeAgent.Core.Tests --filter FullyQualifiedName~Fuzz</c>.
/// </summary>
public sealed class FuzzTests
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("EDGEAGENT_FUZZ_CASES"), out var n) && n > 0 ? n : 3000;

    private static byte[] Mutate(byte[] original, Random random)
    {
        var bytes = new List<byte>(original);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits; e++)
        {
            var at = random.Next(bytes.Count + 1);
            switch (random.Next(5))
            {
                case 0 when at < bytes.Count:
                    bytes[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 1 when at < bytes.Count:
                    bytes.RemoveAt(at);
                    break;
                case 2:
                    bytes.Insert(at, (byte)random.Next(256));
                    break;
                case 3:
                    bytes.RemoveRange(at, bytes.Count - at);
                    break;
                default:
                    bytes.InsertRange(at, Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "\"", 1 => "{}", _ => "[1e999," }));
                    break;
            }
        }

        return [.. bytes];
    }

    [Fact]
    public void Mutated_manifest_envelopes_are_refused_or_carry_exactly_the_signed_manifest()
    {
        using var key = NewKey();
        using var trust = Trust(key);
        var original = Signed(Manifest(), key);
        var signedPayload = System.Text.Json.JsonSerializer.Deserialize<DsseEnvelope>(original, CoreJson.Options)!.Payload;
        var random = new Random(20261126);
        var accepted = 0;
        for (var i = 0; i < Cases; i++)
        {
            var mutated = i % 10 == 0 ? RandomBytes(random) : Mutate(original, random);
            try
            {
                var manifest = Verify(mutated, trust);
                var payload = System.Text.Json.JsonSerializer.Deserialize<DsseEnvelope>(mutated, CoreJson.Options)!.Payload;
                Assert.True(Convert.FromBase64String(payload).AsSpan().SequenceEqual(Convert.FromBase64String(signedPayload)), $"case {i}: accepted a different payload");
                Assert.Equal("vibration", manifest.Name);
                accepted++;
            }
            catch (BundleRejectedException)
            {
                // The expected outcome for nearly every case.
            }
        }

        Assert.True(accepted < Cases / 2, $"{accepted} of {Cases} mutations were accepted; the mutator is not mutating");
    }

    [Fact]
    public void Mutated_roots_are_refused_or_identical_in_content()
    {
        using var key = NewKey();
        var root = new TrustRootDocument { Version = 1, Threshold = 1, Keys = [new TrustRootKey(KeyIds.Of(key), key.ExportSubjectPublicKeyInfoPem())] };
        var original = Serialize(TrustRoot.Sign(root, [key]));
        var random = new Random(7);
        for (var i = 0; i < Cases; i++)
        {
            try
            {
                var verified = TrustRoot.VerifyInitial(Mutate(original, random), Now);
                Assert.Equal(1, verified.Version);
                Assert.Equal(KeyIds.Of(key), verified.Keys.Single().KeyId);
            }
            catch (BundleRejectedException)
            {
                // Refused.
            }
        }
    }

    [Fact]
    public void Desired_state_parsing_never_throws()
    {
        var original = Encoding.UTF8.GetBytes("""{"models":[{"name":"vibration","version":"1.0.0"},{"name":"pump","version":"2.1.0-rc.1"}]}""");
        var random = new Random(11);
        for (var i = 0; i < Cases; i++)
        {
            var input = i % 10 == 0 ? RandomBytes(random) : Mutate(original, random);
            if (DesiredState.TryParse(input, out var state, out var error))
            {
                Assert.All(state!.Models, m => Assert.True(ManifestVerifier.IsValidModelName(m.Name) && SemVersion.TryParse(m.Version, out _)));
            }
            else
            {
                Assert.False(string.IsNullOrWhiteSpace(error));
            }
        }
    }

    private static byte[] RandomBytes(Random random)
    {
        var bytes = new byte[random.Next(0, 512)];
        random.NextBytes(bytes);
        return bytes;
    }
}
