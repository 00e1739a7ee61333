using System.Diagnostics;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// docs/recipes/make-bundle-with-openssl.sh builds a bundle with tar, sha256sum and openssl alone (no EdgeAgent code);
/// edgectl must accept what it makes, and refuse it once tampered.
/// </summary>
public sealed class RecipeTests : IDisposable
{
    private readonly string _work = Directory.CreateTempSubdirectory("edgectl-recipe-").FullName;

    private static string Script => Path.Combine(AppContext.BaseDirectory, "recipes", "make-bundle-with-openssl.sh");

    [Theory]
    [InlineData(0)]
    [InlineData(200_000)]
    public async Task Bundle_made_by_the_documented_openssl_recipe_verifies_with_edgectl(int randomModelBytes)
    {
        RequireTools("bash", "openssl", "tar", "sha256sum", "base64", "dd");
        await RunAsync("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ops.key.pem");
        await RunAsync("openssl", "pkey", "-in", "ops.key.pem", "-pubout", "-out", "ops.pub.pem");
        var model = Path.Combine(_work, "model-input.onnx");
        if (randomModelBytes == 0)
        {
            File.Copy(Path.Combine(AppContext.BaseDirectory, "samples", "vibration.onnx"), model);
        }
        else
        {
            // Several 64 KiB chunks; verification checks hashes and lengths, not ONNX contents.
            await File.WriteAllBytesAsync(model, [.. Enumerable.Range(0, randomModelBytes).Select(i => (byte)(i * 31 % 253))], TestContext.Current.CancellationToken);
        }

        await RunAsync("bash", Script, model, "vibration", "3.1.4", "ops.key.pem", "out");
        var bundle = Path.Combine(_work, "out", "vibration-3.1.4.edgebundle");

        var verify = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "ops.pub.pem"));
        Assert.True(verify.Code == 0, verify.Stderr);
        Assert.StartsWith("OK vibration 3.1.4", verify.Stdout.Trim(), StringComparison.Ordinal);

        var bytes = await File.ReadAllBytesAsync(bundle, TestContext.Current.CancellationToken);
        var original = await File.ReadAllBytesAsync(model, TestContext.Current.CancellationToken);
        var at = bytes.AsSpan().IndexOf(original.AsSpan(0, 64));
        bytes[at + original.Length - 1] ^= 0x40;
        await File.WriteAllBytesAsync(bundle, bytes, TestContext.Current.CancellationToken);
        var tampered = await Edgectl.RunAsync("bundle", "verify", bundle, "--trust", Path.Combine(_work, "ops.pub.pem"));
        Assert.Equal(3, tampered.Code);
        Assert.Contains("hash-mismatch", tampered.Stderr, StringComparison.Ordinal);
    }

    private static void RequireTools(params string[] tools)
    {
        var path = (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':');
        foreach (var tool in tools)
        {
            if (!path.Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                Assert.Skip($"{tool} is not installed");
            }
        }
    }

    private async Task RunAsync(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args)
        {
            WorkingDirectory = _work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.True(process.ExitCode == 0, $"{tool} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
