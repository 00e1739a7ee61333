using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>Hands the web host's loggers to the caller's <see cref="ILoggerFactory"/> (which it does not own).</summary>
internal sealed class ForwardingLoggerProvider(ILoggerFactory factory) : ILoggerProvider
{
    public ILogger CreateLogger(string categoryName) => factory.CreateLogger(categoryName);

    public void Dispose()
    {
        // The factory belongs to the caller.
    }
}
