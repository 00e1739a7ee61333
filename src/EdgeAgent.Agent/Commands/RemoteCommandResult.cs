namespace EdgeAgent.Agent.Commands;

/// <summary>The outcome of a remote command: <see cref="Ok"/> with the answer's fields, or <see cref="Fail"/> with why.</summary>
public sealed class RemoteCommandResult
{
    private RemoteCommandResult(object? fields, string? error)
    {
        Fields = fields;
        Error = error;
    }

    public bool Succeeded => Error is null;

    /// <summary>An object whose properties are written into the answer next to <c>ok</c> and <c>verb</c> (camelCase JSON).</summary>
    public object? Fields { get; }

    public string? Error { get; }

    /// <param name="fields">An object (e.g. an anonymous one) whose properties become fields of the answer; null for none.</param>
    public static RemoteCommandResult Ok(object? fields = null) => new(fields, null);

    public static RemoteCommandResult Fail(string error)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(error);
        return new(null, error);
    }
}
