namespace EdgeAgent.Core.Deployment;

public sealed record Plan(IReadOnlyList<DeploymentStep> Steps)
{
    public static readonly Plan Empty = new([]);

    public bool IsEmpty => Steps.Count == 0;
}
