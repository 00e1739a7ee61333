using System.Text.Json;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Telemetry;

namespace EdgeAgent.Agent.Commands;

/// <summary>
/// <c>report-now</c>: publishes a heartbeat on <c>health</c> at once and asks for the <c>reported</c> document to be
/// published again; answers with the heartbeat as published (<c>health</c>) and whether the broker acknowledged it
/// (<c>published</c>).
/// </summary>
public sealed class ReportNowCommand(HealthReporter health, ReportedStatePublisher reported) : IRemoteCommand
{
    public const string Name = "report-now";

    public string Verb => Name;

    public async Task<RemoteCommandResult> ExecuteAsync(RemoteCommandRequest request, CancellationToken cancellationToken)
    {
        reported.Wake();
        var (payload, published) = await health.PublishSnapshotAsync(cancellationToken);
        using var doc = JsonDocument.Parse(payload);
        return RemoteCommandResult.Ok(new ReportNowAnswer(published, doc.RootElement.Clone()));
    }
}
