using System.Security.Cryptography;

namespace EdgeAgent.Fleet.Keys;

/// <summary>EC P-256 signing keys as PEM files: <c>NAME.key.pem</c> (PKCS#8) and <c>NAME.pub.pem</c> (SubjectPublicKeyInfo).</summary>
public static class SigningKeys
{
    public sealed record KeyPairFiles(string PrivateKeyPath, string PublicKeyPath, string KeyId);

    public static KeyPairFiles Generate(string directory, string name, bool overwrite = false)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.Contains('/', StringComparison.Ordinal) || name.Contains('\\', StringComparison.Ordinal) || name.StartsWith('.'))
        {
            throw new ArgumentException($"key name '{name}' must be a plain file name", nameof(name));
        }

        Directory.CreateDirectory(directory);
        var privatePath = Path.Combine(directory, name + ".key.pem");
        var publicPath = Path.Combine(directory, name + ".pub.pem");
        if (!overwrite && (File.Exists(privatePath) || File.Exists(publicPath)))
        {
            throw new IOException($"{privatePath} or {publicPath} already exists (use --force to replace)");
        }

        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var privatePem = key.ExportPkcs8PrivateKeyPem();
        // Written to a new file created 0600 from the start (the secret never sits in a world-readable file), then
        // renamed over the target, so --force never loses the old key if writing the new one fails.
        var temp = Path.Combine(directory, $".{name}.key.pem.{Environment.ProcessId}.tmp");
        var create = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            create.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        File.Delete(temp);
        using (var stream = new FileStream(temp, create))
        {
            using var writer = new StreamWriter(stream);
            writer.Write(privatePem);
            writer.Write('\n');
        }

        File.Move(temp, privatePath, overwrite: true);
        File.WriteAllText(publicPath, key.ExportSubjectPublicKeyInfoPem() + "\n");
        return new KeyPairFiles(privatePath, publicPath, Core.Bundles.KeyIds.Of(key));
    }

    /// <summary>Loads a private key PEM (PKCS#8 <c>PRIVATE KEY</c> or SEC1 <c>EC PRIVATE KEY</c>, as openssl writes them).</summary>
    public static ECDsa LoadPrivate(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"key file not found: {path}", path);
        }

        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
            if (key.ExportParameters(false).Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value)
            {
                throw new CryptographicException("the key is not on curve P-256");
            }

            _ = key.ExportParameters(includePrivateParameters: true);
            return key;
        }
        catch (Exception ex) when (ex is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new CryptographicException($"{path} is not an EC P-256 private key in PEM form ({ex.Message})", ex);
        }
    }
}
