using EdgeAgent.Agent.Serving;
using Microsoft.ML.OnnxRuntime;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>Several <see cref="IOutputObserver"/>s behind the runner's one (GPIO rules, the meter's output statistics).</summary>
public sealed class OutputObservers(params IOutputObserver[] observers) : IOutputObserver
{
    public bool Observes(string model)
    {
        foreach (var observer in observers)
        {
            if (observer.Observes(model))
            {
                return true;
            }
        }

        return false;
    }

    public void Observe(string model, IReadOnlyList<string> names, IReadOnlyCollection<OrtValue> values)
    {
        foreach (var observer in observers)
        {
            if (observer.Observes(model))
            {
                observer.Observe(model, names, values);
            }
        }
    }
}
