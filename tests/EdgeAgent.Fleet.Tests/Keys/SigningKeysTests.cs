using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Fleet.Keys;
using EdgeAgent.Fleet.Tests.Infrastructure;

namespace EdgeAgent.Fleet.Tests.Keys;

public sealed class SigningKeysTests
{
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void Generate_writes_a_pkcs8_private_key_and_an_spki_public_key()
    {
        using var dir = new TempDir();

        var files = SigningKeys.Generate(dir.Path, "release");

        Assert.Equal(dir.File("release.key.pem"), files.PrivateKeyPath);
        Assert.Equal(dir.File("release.pub.pem"), files.PublicKeyPath);
        var privatePem = File.ReadAllText(files.PrivateKeyPath);
        var publicPem = File.ReadAllText(files.PublicKeyPath);
        Assert.StartsWith("-----BEGIN PRIVATE KEY-----\n", privatePem, StringComparison.Ordinal);
        Assert.EndsWith("-----END PRIVATE KEY-----\n", privatePem, StringComparison.Ordinal);
        Assert.StartsWith("-----BEGIN PUBLIC KEY-----\n", publicPem, StringComparison.Ordinal);
        Assert.EndsWith("-----END PUBLIC KEY-----\n", publicPem, StringComparison.Ordinal);
    }

    [Fact]
    public void Generated_key_id_names_the_public_key_the_device_will_trust()
    {
        using var dir = new TempDir();
        var files = SigningKeys.Generate(dir.Path, "release");

        using var key = SigningKeys.LoadPrivate(files.PrivateKeyPath);
        using var trust = new TrustedKeys();

        Assert.Equal(files.KeyId, KeyIds.Of(key));
        Assert.Equal(files.KeyId, trust.AddPem(File.ReadAllText(files.PublicKeyPath)));
        Assert.Matches("^[0-9a-f]{64}$", files.KeyId);
    }

    [Fact]
    public void Private_key_file_is_readable_only_by_its_owner()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("unix file modes only");
            return;
        }

        using var dir = new TempDir();

        var files = SigningKeys.Generate(dir.Path, "release");

        Assert.Equal(OwnerOnly, File.GetUnixFileMode(files.PrivateKeyPath));
    }

    [Fact]
    public void Generate_refuses_to_replace_an_existing_key()
    {
        using var dir = new TempDir();
        var first = SigningKeys.Generate(dir.Path, "release");
        var before = File.ReadAllText(first.PrivateKeyPath);

        var ex = Assert.Throws<IOException>(() => SigningKeys.Generate(dir.Path, "release"));

        Assert.Contains("already exists", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllText(first.PrivateKeyPath));
    }

    [Fact]
    public void Generate_refuses_when_only_the_public_key_exists()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("release.pub.pem"), "kept");

        Assert.Throws<IOException>(() => SigningKeys.Generate(dir.Path, "release"));
        Assert.Equal("kept", File.ReadAllText(dir.File("release.pub.pem")));
        Assert.False(File.Exists(dir.File("release.key.pem")));
    }

    [Fact]
    public void Generate_with_overwrite_replaces_the_key_and_keeps_it_private()
    {
        using var dir = new TempDir();
        var first = SigningKeys.Generate(dir.Path, "release");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(first.PrivateKeyPath, OwnerOnly | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        var second = SigningKeys.Generate(dir.Path, "release", overwrite: true);

        Assert.NotEqual(first.KeyId, second.KeyId);
        using var key = SigningKeys.LoadPrivate(second.PrivateKeyPath);
        Assert.Equal(second.KeyId, KeyIds.Of(key));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(OwnerOnly, File.GetUnixFileMode(second.PrivateKeyPath));
        }
    }

    [Theory]
    [InlineData("../release")]
    [InlineData("keys/release")]
    [InlineData(".release")]
    [InlineData(" ")]
    public void Key_name_that_is_not_a_plain_file_name_is_refused(string name)
    {
        using var dir = new TempDir();

        Assert.ThrowsAny<ArgumentException>(() => SigningKeys.Generate(dir.Path, name));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void Sec1_ec_private_key_loads()
    {
        using var dir = new TempDir();
        using var original = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(dir.File("sec1.pem"), original.ExportECPrivateKeyPem());

        using var key = SigningKeys.LoadPrivate(dir.File("sec1.pem"));

        Assert.Equal(KeyIds.Of(original), KeyIds.Of(key));
    }

    [Fact]
    public void Key_on_another_curve_is_refused_naming_the_file()
    {
        using var dir = new TempDir();
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        File.WriteAllText(dir.File("p384.pem"), p384.ExportPkcs8PrivateKeyPem());

        var ex = Assert.Throws<CryptographicException>(() => SigningKeys.LoadPrivate(dir.File("p384.pem")));

        Assert.Contains("p384.pem", ex.Message, StringComparison.Ordinal);
        Assert.Contains("P-256", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Public_key_is_refused_as_a_signing_key()
    {
        using var dir = new TempDir();
        var files = SigningKeys.Generate(dir.Path, "release");

        Assert.Throws<CryptographicException>(() => SigningKeys.LoadPrivate(files.PublicKeyPath));
    }

    [Fact]
    public void File_that_is_not_pem_is_refused()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("junk.pem"), "not a key");

        Assert.Throws<CryptographicException>(() => SigningKeys.LoadPrivate(dir.File("junk.pem")));
    }

    [Fact]
    public void Missing_key_file_is_reported_with_its_path()
    {
        using var dir = new TempDir();

        var ex = Assert.Throws<FileNotFoundException>(() => SigningKeys.LoadPrivate(dir.File("absent.pem")));

        Assert.Contains("absent.pem", ex.Message, StringComparison.Ordinal);
    }
}
