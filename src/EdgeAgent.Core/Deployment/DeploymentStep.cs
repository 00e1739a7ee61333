namespace EdgeAgent.Core.Deployment;

public abstract record DeploymentStep(string Model)
{
    /// <summary>Fetch, verify, stage and activate <paramref name="Version"/> of a model.</summary>
    public sealed record Deploy(string Model, string Version, int Attempt) : DeploymentStep(Model);

    /// <summary>Stop serving a model that is no longer desired.</summary>
    public sealed record Unload(string Model) : DeploymentStep(Model);
}
