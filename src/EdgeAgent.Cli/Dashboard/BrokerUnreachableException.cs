namespace EdgeAgent.Cli.Dashboard;

/// <summary>The dashboard could not make its first connection to the broker (edgectl exits 4).</summary>
internal sealed class BrokerUnreachableException(string message, Exception inner) : IOException(message, inner);
