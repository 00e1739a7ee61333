using System.Diagnostics;
using System.Text;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// The web dashboard's own suites, run from <c>dotnet test</c> so CI counts them: its Vitest component tests, and the
/// Playwright end-to-end test in headless Chromium against a real <c>edgectl demo</c> fleet (web/dashboard/e2e).
/// Both need Node.js and <c>npm ci</c> in web/dashboard; the browser test also the Debian <c>chromium</c> package.
/// Without them they are skipped with the command that installs what is missing.
/// </summary>
public sealed class WebDashboardTests
{
    private static readonly string Web = Path.Combine(RepoRoot(), "web", "dashboard");

    [Fact]
    public async Task Vitest_component_tests_pass()
    {
        SkipUnlessNodeModules();
        var (code, output) = await RunAsync("/usr/bin/npm", ["test"], new Dictionary<string, string>(), TimeSpan.FromMinutes(4));
        Assert.True(code == 0, $"npm test failed ({code}):\n{output}");
        Assert.Matches(@"Tests\s+\d+ passed", Plain(output));
        Assert.DoesNotMatch(@"Tests\s+.*\d+ (failed|skipped)", Plain(output));
    }

    [Fact]
    public async Task Browser_sees_the_demo_fleet_and_rollout_and_pauses_it()
    {
        SkipUnlessNodeModules();
        if (!File.Exists("/usr/bin/chromium"))
        {
            Assert.Skip("/usr/bin/chromium is not installed (apt-get install chromium)");
        }

        var results = Directory.CreateTempSubdirectory("e2e-").FullName;
        var environment = new Dictionary<string, string>
        {
            ["EDGECTL"] = $"dotnet {Path.Combine(AppContext.BaseDirectory, "edgectl.dll")}",
            ["E2E_OUTPUT_DIR"] = results,
            ["CI"] = "1",
        };
        var (code, output) = await RunAsync("/usr/bin/npx", ["playwright", "test"], environment, TimeSpan.FromMinutes(6));
        Assert.True(code == 0, $"playwright test failed ({code}); traces in {results}:\n{output}");
        Assert.Matches(@"\b3 passed\b", Plain(output));
        Directory.Delete(results, recursive: true);
    }

    private static void SkipUnlessNodeModules()
    {
        if (!File.Exists("/usr/bin/node") || !File.Exists("/usr/bin/npm"))
        {
            Assert.Skip("Node.js is not installed (apt-get install nodejs)");
        }

        if (!Directory.Exists(Path.Combine(Web, "node_modules")))
        {
            Assert.Skip("web/dashboard has no node_modules (cd web/dashboard && npm ci)");
        }
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] args, Dictionary<string, string> environment, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(file, args)
        {
            WorkingDirectory = Web,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["NO_COLOR"] = "1";
        start.Environment["FORCE_COLOR"] = "0";
        foreach (var (k, v) in environment)
        {
            start.Environment[k] = v;
        }

        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            lock (output)
            {
                return (-1, $"timed out after {timeout.TotalSeconds:0} s\n{output}");
            }
        }

        process.WaitForExit();
        lock (output)
        {
            return (process.ExitCode, output.ToString());
        }
    }

    private static void Append(StringBuilder output, string? line)
    {
        if (line is not null)
        {
            lock (output)
            {
                output.AppendLine(line);
            }
        }
    }

    /// <summary>Without ANSI colour codes (in case a tool ignores NO_COLOR).</summary>
    private static string Plain(string text) => System.Text.RegularExpressions.Regex.Replace(text, @"\x1b\[[0-9;]*m", string.Empty);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "EdgeAgent.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"EdgeAgent.sln not found above {AppContext.BaseDirectory}");
    }
}
