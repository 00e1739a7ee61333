namespace EdgeAgent.Agent.Commands;

/// <summary>
/// One verb of the remote commands on <c>{p}/devices/{id}/cmd/{verb}</c> (docs/mqtt-api.md#cmd). A verb is added by
/// implementing this interface and registering it: <c>services.AddRemoteCommand&lt;MyCommand&gt;()</c> in
/// <see cref="AgentHost"/>. <see cref="RemoteCommandService"/> routes each request to the command with its verb, one
/// request at a time, and answers with <c>{"ok": true, "verb": ..., ...fields}</c> or <c>{"ok": false, "verb": ...,
/// "error": ...}</c>.
/// </summary>
public interface IRemoteCommand
{
    /// <summary>The verb, the last topic level: letters, digits, <c>-</c> and <c>_</c> (e.g. <c>report-now</c>).</summary>
    string Verb { get; }

    /// <summary>
    /// Runs the command. Return <see cref="RemoteCommandResult.Ok"/> with the answer's fields, or
    /// <see cref="RemoteCommandResult.Fail"/> with a one-line reason; an exception is answered as <c>ok: false</c>
    /// with its message (and logged).
    /// </summary>
    Task<RemoteCommandResult> ExecuteAsync(RemoteCommandRequest request, CancellationToken cancellationToken);
}
