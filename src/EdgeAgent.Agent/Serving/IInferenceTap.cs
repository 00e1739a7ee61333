namespace EdgeAgent.Agent.Serving;

/// <summary>
/// Sees the inputs and outputs of every successful inference of the models it watches (drift accounting, data capture).
/// <see cref="Watches"/> is asked first on every request and must be cheap; <see cref="Observe"/> runs on the request
/// thread after the response is written, must not block and must not keep the spans it is given.
/// </summary>
public interface IInferenceTap
{
    bool Watches(string model);

    void Observe(InferenceData data);
}
