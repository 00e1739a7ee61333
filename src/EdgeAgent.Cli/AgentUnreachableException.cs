namespace EdgeAgent.Cli;

public sealed class AgentUnreachableException : Exception
{
    public AgentUnreachableException()
    {
    }

    public AgentUnreachableException(string message)
        : base(message)
    {
    }

    public AgentUnreachableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
