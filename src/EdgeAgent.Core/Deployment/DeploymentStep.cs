namespace EdgeAgent.Core.Deployment;

public abstract record DeploymentStep(string Model)
{
    /// <summary>Fetch, verify, stage and activate <paramref name="Version"/> of a model.</summary>
    public sealed record Deploy(string Model, string Version, int Attempt) : DeploymentStep(Model);

    /// <summary>The version desired is the one already serving (e.g. after a failed upgrade was abandoned): no fetch, just record it Active.</summary>
    public sealed record Reactivate(string Model, string Version) : DeploymentStep(Model);

    /// <summary>The version desired is one this device ran before and still keeps: swap back to it at once, no fetch.</summary>
    public sealed record Revert(string Model, string Version) : DeploymentStep(Model);

    /// <summary>The desired version is in probation: check its numbers; end probation or roll back.</summary>
    public sealed record Watch(string Model, string Version) : DeploymentStep(Model);

    /// <summary>Stop serving a model that is no longer desired, and forget its record.</summary>
    public sealed record Unload(string Model) : DeploymentStep(Model);
}
