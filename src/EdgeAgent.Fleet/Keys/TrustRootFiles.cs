using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Fleet.Keys;

/// <summary>Makes and reads <c>root.json</c> files (first roots and rotations), checking each one as a device would before it is written.</summary>
public static class TrustRootFiles
{
    public sealed record Request
    {
        /// <summary>The root in force; null makes a first root (version 1).</summary>
        public string? CurrentPath { get; init; }

        public required IReadOnlyList<string> PublicKeyPaths { get; init; }

        public required int Threshold { get; init; }

        /// <summary>Private keys that sign: a threshold of the current root's keys and a threshold of the new root's keys.</summary>
        public required IReadOnlyList<ECDsa> Signers { get; init; }

        public TimeSpan? ValidFor { get; init; }

        public required string OutPath { get; init; }

        public DateTimeOffset Now { get; init; } = DateTimeOffset.UtcNow;
    }

    public static TrustRootDocument Write(Request request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var current = request.CurrentPath is null ? null : Load(request.CurrentPath, request.Now);
        var keys = new List<TrustRootKey>();
        using var checkedKeys = new TrustedKeys();
        foreach (var path in request.PublicKeyPaths)
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"public key not found: {path}", path);
            }

            // AddPem accepts only EC P-256 public keys (a private key is refused) and gives the key id.
            var pem = File.ReadAllText(path);
            var keyId = checkedKeys.AddPem(pem);
            if (keys.All(k => k.KeyId != keyId))
            {
                keys.Add(new TrustRootKey(keyId, pem.Trim()));
            }
        }

        var root = new TrustRootDocument
        {
            Version = (current?.Version ?? 0) + 1,
            Threshold = request.Threshold,
            Expires = request.ValidFor is { } valid ? request.Now + valid : null,
            Keys = keys,
        };
        var envelope = JsonSerializer.SerializeToUtf8Bytes(TrustRoot.Sign(root, request.Signers), CoreJson.Indented);

        // Refuse to write a root that devices would refuse.
        _ = current is null ? TrustRoot.VerifyInitial(envelope, request.Now) : TrustRoot.VerifyRotation(current, envelope, request.Now);
        File.WriteAllBytes(request.OutPath, envelope);
        return root;
    }

    /// <summary>Reads a root.json and checks it against its own keys and threshold.</summary>
    public static TrustRootDocument Load(string path, DateTimeOffset now)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"root not found: {path}", path);
        }

        return TrustRoot.VerifyInitial(File.ReadAllBytes(path), now);
    }
}
