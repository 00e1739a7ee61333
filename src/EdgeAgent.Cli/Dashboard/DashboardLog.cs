using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>Dashboard log events, 8001-8099.</summary>
internal static partial class DashboardLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Lost the connection to the broker {Broker}; reconnecting")]
    public static partial void ConnectionLost(ILogger logger, string broker);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Connected to the broker {Broker} again")]
    public static partial void Reconnected(ILogger logger, string broker);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Debug, Message = "Reconnecting to the broker failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, string reason);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Debug, Message = "Ignored an unreadable message on {Topic}: {Reason}")]
    public static partial void Unreadable(ILogger logger, string topic, string reason);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Information, Message = "Rollout {Rollout}: {Operation} from the dashboard ({Result})")]
    public static partial void Control(ILogger logger, string rollout, string operation, string result);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Debug, Message = "An event stream client fell {Capacity} events behind; it gets a fresh snapshot")]
    public static partial void StreamOverflow(ILogger logger, int capacity);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Debug, Message = "Reading the drift baseline of {Model} {Version} failed: {Reason}")]
    public static partial void BaselineUnreadable(ILogger logger, string model, string version, string reason);
}
