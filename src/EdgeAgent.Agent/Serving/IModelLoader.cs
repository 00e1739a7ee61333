using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Agent.Serving;

/// <summary>
/// Loads an installed model file into an ONNX Runtime session for the reconcile loop. The default gives every load its
/// own session; a host running many agents in one process (the fleet simulation) registers a
/// <see cref="SharedSessionLoader"/> through <see cref="AgentHost.Build"/>'s <c>configure</c> parameter.
/// </summary>
public interface IModelLoader
{
    /// <param name="manifest">The verified manifest of the installed bundle.</param>
    /// <param name="modelPath">The installed model file (already hashed against the manifest).</param>
    OnnxModel Load(BundleManifest manifest, string modelPath, ServingOptions serving);
}

/// <summary>The default loader: one new session per load (<see cref="OnnxModel.Load"/>).</summary>
public sealed class OnnxModelLoader : IModelLoader
{
    public OnnxModel Load(BundleManifest manifest, string modelPath, ServingOptions serving)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return OnnxModel.Load(manifest.Name, manifest.Version, modelPath, serving);
    }
}
