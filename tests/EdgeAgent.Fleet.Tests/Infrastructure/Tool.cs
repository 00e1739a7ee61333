using System.Diagnostics;
using System.Text;

namespace EdgeAgent.Fleet.Tests.Infrastructure;

/// <summary>Runs a command-line tool (openssl, sha256sum, tar) found on PATH; a test that needs a missing one is skipped.</summary>
public static class Tool
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    public static string? Find(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        var names = OperatingSystem.IsWindows() ? new[] { name + ".exe", name } : [name];
        return path.Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .SelectMany(dir => names.Select(n => System.IO.Path.Combine(dir, n)))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Skips the running test unless every named tool is on PATH.</summary>
    public static void Require(params string[] names)
    {
        var missing = names.Where(n => Find(n) is null).ToList();
        if (missing.Count > 0)
        {
            Assert.Skip($"{string.Join(", ", missing)} not found on PATH");
        }
    }

    /// <summary>Runs the tool in <paramref name="workingDirectory"/> and returns its stdout; fails the test on a non-zero exit.</summary>
    public static byte[] Run(string workingDirectory, string name, params string[] args)
    {
        var start = new ProcessStartInfo(Find(name) ?? name)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        using var stdout = new MemoryStream();
        process.StandardOutput.BaseStream.CopyTo(stdout);
        if (!process.WaitForExit(Timeout))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{name} {string.Join(' ', args)} did not finish in {Timeout.TotalSeconds} s");
        }

        Assert.True(process.ExitCode == 0, $"{name} {string.Join(' ', args)} exited {process.ExitCode}: {stderr.Result}");
        return stdout.ToArray();
    }

    public static string RunText(string workingDirectory, string name, params string[] args) =>
        Encoding.UTF8.GetString(Run(workingDirectory, name, args));
}
