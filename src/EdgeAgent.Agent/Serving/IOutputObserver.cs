using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Serving;

/// <summary>Sees the outputs of each served response, e.g. GPIO rules. <see cref="Observes"/> is checked first and must be cheap.</summary>
public interface IOutputObserver
{
    bool Observes(string model);

    /// <summary>Called on the request thread while the outputs are alive; must not keep them.</summary>
    void Observe(string model, IReadOnlyList<string> names, IReadOnlyCollection<OrtValue> values);
}
