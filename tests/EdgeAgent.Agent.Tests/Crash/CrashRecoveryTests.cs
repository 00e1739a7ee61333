using EdgeAgent.Agent.Tests.Infrastructure;

namespace EdgeAgent.Agent.Tests.Crash;

/// <summary>
/// kill -9 of the agent process at exact points of an upgrade from 1.0.0 to 2.0.0 (every persisted state, chunk writes
/// torn in the middle, file assembly and installation half done, the slot swap, the end of probation), then a restart:
/// the agent serves exactly 1.0.0 or 2.0.0 with correct answers, never nothing and never a half-written model, and
/// then finishes the upgrade. 21 points, about 2 s each (a real <c>edge-agent</c> process per run).
/// </summary>
public sealed class CrashRecoveryTests(CrashFixture fixture) : IClassFixture<CrashFixture>
{
    private static readonly string[] All =
    [
        "state:Pending", "state:Fetching", "manifest-verified", "state:Verifying", "chunk:0", "chunk-partial:1", "chunk:2",
        "chunk-partial:4", "assembling", "assembled", "installing", "installed-staging", "installed", "state:Staging", "loaded",
        "state:Activating", "swapped", "state:Probation", "probation-passed", "before-accepted", "state:Active",
    ];

    public static TheoryData<string> Points() => [.. All];

    [Theory]
    [MemberData(nameof(Points))]
    public async Task Killed_mid_upgrade_the_agent_restarts_serving_the_old_or_the_new_version_and_finishes(string point)
    {
        var device = "crash-" + point.Replace(':', '-');
        var state = Path.Combine(fixture.Work, device);
        CopyDirectory(fixture.Template, state);
        await fixture.SetDesiredAsync(device, "2.0.0");
        var config = fixture.Config(device, state);

        await using (var doomed = await AgentProcess.StartAsync(config, killAt: point))
        {
            Assert.True(await doomed.WaitForExitAsync(TimeSpan.FromSeconds(60)), $"the agent never reached crash point {point}:\n{doomed.Output}");
            Assert.Equal(137, doomed.ExitCode);
        }

        await using var agent = await AgentProcess.StartAsync(config);
        using var api = new UnixSocketApi(fixture.Socket(device));

        // Whatever it serves first after the crash is a whole, verified model: 1.0.0 or 2.0.0, with the right answers.
        var first = await ServedVersionAsync(api, agent);
        Assert.Contains(first, new[] { "1.0.0", "2.0.0" });

        await fixture.WaitForAsync(device, "Active", "2.0.0", agent);
        Assert.Equal("2.0.0", await ServedVersionAsync(api, agent));
        var versions = Directory.GetDirectories(Path.Combine(state, "models", CrashFixture.Model)).Select(d => Path.GetFileName(d)!).Order().ToArray();
        Assert.Equal(["1.0.0", "2.0.0"], versions);
    }

    [Fact]
    public async Task A_version_that_kills_the_agent_while_staging_ends_Failed_after_MaxAttempts_restarts_instead_of_looping()
    {
        const string Device = "crash-loop";
        var state = Path.Combine(fixture.Work, Device);
        CopyDirectory(fixture.Template, state);
        await fixture.SetDesiredAsync(Device, "2.0.0");
        var config = fixture.Config(Device, state);

        // Each start dies once 2.0.0 is loaded (as a model that crashes ONNX Runtime would); systemd restarts it.
        var deaths = 0;
        while (true)
        {
            await using var agent = await AgentProcess.StartAsync(config, killAt: "loaded");
            await Wait.UntilAsync(
                () => agent.HasExited || (fixture.Reported(Device) is { } m && m.GetProperty("state").GetString() == "Failed" && m.GetProperty("attempts").GetInt32() >= 3),
                TimeSpan.FromSeconds(60),
                $"the agent to die or give up (deaths so far: {deaths})");
            if (!agent.HasExited)
            {
                var gaveUp = fixture.Reported(Device)!.Value;
                Assert.Equal("2.0.0", gaveUp.GetProperty("version").GetString());
                Assert.Equal("1.0.0", gaveUp.GetProperty("activeVersion").GetString());
                Assert.Equal("interrupted while Staging", gaveUp.GetProperty("reason").GetString());
                using var api = new UnixSocketApi(fixture.Socket(Device));
                Assert.Equal("1.0.0", await ServedVersionAsync(api, agent));
                break;
            }

            deaths++;
            Assert.True(deaths <= 3, $"the agent kept dying: {deaths} times");
        }

        Assert.Equal(3, deaths);
    }

    private static async Task<string> ServedVersionAsync(UnixSocketApi api, AgentProcess agent)
    {
        string? version = null;
        await Wait.UntilAsync(
            async () =>
            {
                try
                {
                    var (status, body) = await api.PostAsync("/v2/models/vibration/infer", AgentRig.SampleRequest);
                    if (status != 200)
                    {
                        return false;
                    }

                    var label = body.RootElement.GetProperty("outputs").EnumerateArray().Single(o => o.GetProperty("name").GetString() == "label");
                    Assert.Equal([0L, 1L, 2L], label.GetProperty("data").EnumerateArray().Select(e => e.GetInt64()));
                    version = body.RootElement.GetProperty("model_version").GetString();
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            },
            TimeSpan.FromSeconds(60),
            $"the restarted agent to serve a model (exited: {agent.HasExited})");
        return version!;
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
        {
            Directory.CreateDirectory(dir.Replace(from, to, StringComparison.Ordinal));
        }

        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            if (!file.EndsWith(".lock", StringComparison.Ordinal))
            {
                File.Copy(file, file.Replace(from, to, StringComparison.Ordinal));
            }
        }
    }
}
