using System.Security.Cryptography;

namespace EdgeAgent.Core.Bundles;

public static class KeyIds
{
    /// <summary>Lowercase hex SHA-256 of the DER SubjectPublicKeyInfo (same as <c>openssl pkey -pubin -outform DER | sha256sum</c>).</summary>
    public static string Of(ECDsa key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Convert.ToHexStringLower(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }
}
