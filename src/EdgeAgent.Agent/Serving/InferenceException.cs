namespace EdgeAgent.Agent.Serving;

/// <summary>A request the API refuses; <see cref="StatusCode"/> is the HTTP status (400, 404, 413, 503).</summary>
public sealed class InferenceException : Exception
{
    public InferenceException()
    {
    }

    public InferenceException(string message)
        : base(message)
    {
        StatusCode = 400;
    }

    public InferenceException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = 400;
    }

    public InferenceException(int statusCode, string message)
        : base(message)
    {
        StatusCode = statusCode;
    }

    public int StatusCode { get; } = 400;
}
