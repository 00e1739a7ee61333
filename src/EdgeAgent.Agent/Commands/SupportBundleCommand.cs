using EdgeAgent.Agent.Diagnostics;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Commands;

/// <summary>
/// <c>support-bundle</c>: builds a support bundle (<see cref="SupportBundleBuilder"/>) and answers with it, base64 in
/// <c>bundle</c>, with <c>fileName</c>, <c>bytes</c>, <c>sha256</c> and <c>entries</c>; <c>ok: false</c> when it is
/// larger than <c>Agent:SupportBundleMaxBytes</c> (fetch it on the device with <c>edgectl support-bundle</c> then).
/// </summary>
public sealed class SupportBundleCommand(SupportBundleBuilder builder, IOptions<AgentOptions> agent) : IRemoteCommand
{
    public const string Name = "support-bundle";

    public string Verb => Name;

    public Task<RemoteCommandResult> ExecuteAsync(RemoteCommandRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(agent);
        var bundle = builder.Build();
        var max = agent.Value.SupportBundleMaxBytes;
        if (bundle.Content.Length > max)
        {
            return Task.FromResult(RemoteCommandResult.Fail($"the support bundle is {bundle.Content.Length} bytes, more than Agent:SupportBundleMaxBytes ({max}); on the device, 'edgectl support-bundle' writes it to a file"));
        }

        return Task.FromResult(RemoteCommandResult.Ok(new SupportBundleAnswer(bundle.FileName, bundle.Content.Length, bundle.Sha256, bundle.Entries, Convert.ToBase64String(bundle.Content))));
    }
}
