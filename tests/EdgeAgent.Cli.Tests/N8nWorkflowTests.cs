using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeAgent.Cli.Tests;

/// <summary>
/// deploy-manifests/lifecycle/n8n-workflow.json: the graph is whole (every connection names a node), the MQTT Trigger
/// listens on the topics the agent and the retraining service publish, and its Code node, run by Node.js the way n8n
/// runs it, picks out drift alerts, failed deployments and retraining outcomes from single records and batches.
/// </summary>
public sealed class N8nWorkflowTests
{
    private static readonly string Workflow = Path.Combine(AppContext.BaseDirectory, "lifecycle", "n8n-workflow.json");

    [Fact]
    public void Workflow_graph_is_whole_and_listens_on_the_agent_topics()
    {
        var root = JsonNode.Parse(File.ReadAllText(Workflow))!;
        var names = root["nodes"]!.AsArray().Select(n => n!["name"]!.GetValue<string>()).ToHashSet();
        foreach (var (from, outputs) in root["connections"]!.AsObject())
        {
            Assert.Contains(from, names);
            foreach (var target in outputs!["main"]!.AsArray().SelectMany(o => o!.AsArray()))
            {
                Assert.Contains(target!["node"]!.GetValue<string>(), names);
            }
        }

        var trigger = root["nodes"]!.AsArray().Single(n => n!["type"]!.GetValue<string>() == "n8n-nodes-base.mqttTrigger")!;
        var topics = trigger["parameters"]!["topics"]!.GetValue<string>().Split(',');
        Assert.Equal(["edgeagent/v1/devices/+/drift", "edgeagent/v1/devices/+/events", "edgeagent/v1/lifecycle/+/events"], topics);
    }

    [Fact]
    public async Task Code_node_keeps_drift_alerts_failed_deployments_and_retraining_outcomes()
    {
        if (!File.Exists("/usr/bin/node"))
        {
            Assert.Skip("/usr/bin/node is not installed (apt-get install nodejs)");
        }

        var root = JsonNode.Parse(await File.ReadAllTextAsync(Workflow, TestContext.Current.CancellationToken))!;
        var code = root["nodes"]!.AsArray().Single(n => n!["type"]!.GetValue<string>() == "n8n-nodes-base.code")!["parameters"]!["jsCode"]!.GetValue<string>();

        // What the MQTT Trigger hands on (jsonParseBody): one item per message, the parsed body in json.message.
        object[] messages =
        [
            new { topic = "edgeagent/v1/devices/d1/drift", message = new { records = new object[] { new { kind = "window", state = "drift", deviceId = "d1", model = "vibration" }, new { kind = "alert", state = "drift", deviceId = "d1", model = "vibration", version = "1.0.0" } } } },
            new { topic = "edgeagent/v1/devices/d2/drift", message = new { kind = "alert", state = "ok", deviceId = "d2", model = "vibration" } },
            new { topic = "edgeagent/v1/devices/d2/events", message = new { type = "deployment", state = "RolledBack", deviceId = "d2", model = "vibration", version = "1.1.0", reason = "p95 above" } },
            new { topic = "edgeagent/v1/devices/d2/events", message = new { type = "deployment", state = "Active", deviceId = "d2", model = "vibration" } },
            new { topic = "edgeagent/v1/lifecycle/vibration/events", message = new { @event = "refused", model = "vibration", reason = "not better" } },
            new { topic = "edgeagent/v1/lifecycle/vibration/events", message = new { @event = "collected", model = "vibration", rows = 10 } },
        ];
        var items = JsonSerializer.Serialize(messages.Select(m => new { json = m }));
        var script = $"const $input = {{ all: () => {items} }};\nconst result = (() => {{\n{code}\n}})();\nconsole.log(JSON.stringify(result.map(r => r.json.what)));";
        var file = Path.Combine(Directory.CreateTempSubdirectory("n8n-").FullName, "node.js");
        await File.WriteAllTextAsync(file, script, TestContext.Current.CancellationToken);
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/node", [file]) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var stdout = await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = await process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);

        Assert.True(process.ExitCode == 0, stderr);
        Assert.Equal(["drift", "deployment-RolledBack", "retraining-refused"], JsonSerializer.Deserialize<string[]>(stdout)!);
    }
}
