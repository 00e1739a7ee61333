using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent;

/// <summary>Source-generated log messages. Event ids: 1xxx MQTT, 2xxx deployment, 3xxx serving, 4xxx telemetry, 5xxx hardware (GPIO, watchdog), 6xxx remote commands, capture and drift, 7001-7019 systemd.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Connected to {Broker} as {ClientId} (session {Seq})")]
    public static partial void Connected(ILogger logger, string broker, string clientId, long seq);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Cannot reach broker {Broker} (attempt {Attempt}, next try in {DelaySeconds} s): {Error}")]
    public static partial void ConnectFailed(ILogger logger, string broker, int attempt, double delaySeconds, string error);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Disconnected from broker: {Reason}")]
    public static partial void Disconnected(ILogger logger, string reason);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "Ignored desired state on {Topic}: {Error}")]
    public static partial void DesiredRejected(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Information, Message = "Desired state received: {Models}")]
    public static partial void DesiredAccepted(ILogger logger, string models);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Debug, Message = "MQTT operation on {Topic} failed: {Error}")]
    public static partial void PublishFailed(ILogger logger, string topic, string error);

    [LoggerMessage(EventId = 1007, Level = LogLevel.Warning, Message = "MQTT {Operation} of {Topic} got no answer within {Timeout}; dropping the connection to start a fresh session")]
    public static partial void OperationTimedOut(ILogger logger, string operation, string topic, TimeSpan timeout);

    [LoggerMessage(EventId = 1008, Level = LogLevel.Error, Message = "The broker refused the subscription to {Topic} ({Code}); check its ACL for this device")]
    public static partial void SubscribeRefused(ILogger logger, string topic, string code);

    [LoggerMessage(EventId = 2001, Level = LogLevel.Information, Message = "Deploying {Model} {Version} (attempt {Attempt})")]
    public static partial void Deploying(ILogger logger, string model, string version, int attempt);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "{Model} {Version} is Active")]
    public static partial void Activated(ILogger logger, string model, string version);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Deployment of {Model} {Version} failed: {Reason}")]
    public static partial void DeploymentFailed(ILogger logger, string model, string version, string reason);

    [LoggerMessage(EventId = 2004, Level = LogLevel.Warning, Message = "Chunk {Index} of {Sha256} failed its hash; fetching again")]
    public static partial void ChunkHashMismatch(ILogger logger, int index, string sha256);

    [LoggerMessage(EventId = 2005, Level = LogLevel.Information, Message = "Recovered {Model} {Version} from disk")]
    public static partial void Recovered(ILogger logger, string model, string version);

    [LoggerMessage(EventId = 2006, Level = LogLevel.Error, Message = "Could not reload {Model} {Version} at start-up: {Reason}")]
    public static partial void RecoverFailed(ILogger logger, string model, string version, string reason);

    [LoggerMessage(EventId = 2007, Level = LogLevel.Information, Message = "Unloaded {Model}")]
    public static partial void Unloaded(ILogger logger, string model);

    [LoggerMessage(EventId = 2008, Level = LogLevel.Error, Message = "Reconcile loop error")]
    public static partial void ReconcileError(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2010, Level = LogLevel.Information, Message = "Trust root rotated to v{Version}: {Threshold} of {Keys} key(s)")]
    public static partial void TrustRootRotated(ILogger logger, int version, int threshold, int keys);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Trust root refused: {Reason}")]
    public static partial void TrustRootRefused(ILogger logger, string reason);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Rolling {Model} back from {Version} to {Previous}: {Reason}")]
    public static partial void RollingBack(ILogger logger, string model, string version, string previous, string reason);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "{Model} {Version} passed staging: {Vectors} acceptance vector(s), {WarmupRuns} warm-up run(s) at {WarmupMs:0.###} ms mean")]
    public static partial void Accepted(ILogger logger, string model, string version, int vectors, int warmupRuns, double warmupMs);

    [LoggerMessage(EventId = 2009, Level = LogLevel.Information, Message = "{Model} {Version}: {State}")]
    public static partial void StateChanged(ILogger logger, string model, string version, string state);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "{Model} {Version} runs on {Provider}: {Fallback}")]
    public static partial void ProviderFallback(ILogger logger, string model, string version, string provider, string fallback);


    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "The outbox file could not be read and was moved to {Aside}; starting with an empty outbox ({Error})")]
    public static partial void OutboxReset(ILogger logger, string aside, string error);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "{Service} failed; it keeps running")]
    public static partial void ServiceError(ILogger logger, string service, Exception exception);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "GPIO is not available ({Error}); the agent keeps serving without pins")]
    public static partial void GpioUnavailable(ILogger logger, string error);

    [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "GPIO pin {Pin} ({Owner}) failed: {Error}")]
    public static partial void GpioPinFailed(ILogger logger, int pin, string owner, string error);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Information, Message = "GPIO dry run: pin {Pin} -> {Value} ({Owner})")]
    public static partial void GpioDryRun(ILogger logger, int pin, System.Device.Gpio.PinValue value, string owner);

    [LoggerMessage(EventId = 5004, Level = LogLevel.Information, Message = "GPIO rule pins of {Model} to their safe state ({Reason})")]
    public static partial void GpioSafeState(ILogger logger, string model, string reason);

    [LoggerMessage(EventId = 5005, Level = LogLevel.Information, Message = "GPIO input pin {Pin}: {Action}")]
    public static partial void GpioInput(ILogger logger, int pin, string action);

    [LoggerMessage(EventId = 5006, Level = LogLevel.Warning, Message = "GPIO input pin {Pin} action {Action} failed: {Error}")]
    public static partial void GpioInputFailed(ILogger logger, int pin, string action, string error);

    [LoggerMessage(EventId = 5007, Level = LogLevel.Warning, Message = "Watchdog: the reconcile loop made no progress for {Seconds} s (Agent:WatchdogSeconds {Timeout}); GPIO rule pins to their safe state, status LED error")]
    public static partial void WatchdogStalled(ILogger logger, double seconds, double timeout);

    [LoggerMessage(EventId = 5008, Level = LogLevel.Information, Message = "Watchdog: the reconcile loop is making progress again")]
    public static partial void WatchdogRecovered(ILogger logger);

    [LoggerMessage(EventId = 5009, Level = LogLevel.Information, Message = "Status LED (pin {Pin}) shows {Pattern}")]
    public static partial void StatusLedPattern(ILogger logger, int pin, string pattern);

    [LoggerMessage(EventId = 6040, Level = LogLevel.Warning, Message = "Capture: a sample of {Model} could not be written ({Error}); it is lost, serving goes on")]
    public static partial void CaptureWriteFailed(ILogger logger, string model, string error);

    [LoggerMessage(EventId = 6041, Level = LogLevel.Warning, Message = "Drift: {Model} {Version} went from {Previous} to {State} (worst: {Worst})")]
    public static partial void DriftStateChanged(ILogger logger, string model, string version, string previous, string state, string worst);
    [LoggerMessage(EventId = 6020, Level = LogLevel.Warning, Message = "The retained status said offline for the older session {OldSeq}; published the birth of session {Seq} again")]
    public static partial void LateOfflineSuperseded(ILogger logger, long oldSeq, long seq);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Information, Message = "Support bundle built: {Bytes} bytes, {Entries} entries")]
    public static partial void SupportBundleBuilt(ILogger logger, int bytes, int entries);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Information, Message = "Remote command {Verb} done in {Milliseconds} ms (answered: {Answered})")]
    public static partial void CommandRan(ILogger logger, string verb, double milliseconds, bool answered);

    [LoggerMessage(EventId = 6023, Level = LogLevel.Warning, Message = "Remote command {Verb} refused: {Error}")]
    public static partial void CommandRefused(ILogger logger, string verb, string error);

    [LoggerMessage(EventId = 6024, Level = LogLevel.Error, Message = "Remote command {Verb} failed")]
    public static partial void CommandError(ILogger logger, string verb, Exception exception);

    [LoggerMessage(EventId = 6025, Level = LogLevel.Warning, Message = "Ignored the retained remote command {Verb} on {Topic}: commands must not be retained (clear it with an empty retained message)")]
    public static partial void RetainedCommandIgnored(ILogger logger, string verb, string topic);

    [LoggerMessage(EventId = 6026, Level = LogLevel.Warning, Message = "Remote command {Verb}: response topic '{Topic}' is not a topic to publish to (wildcard or $); not answered")]
    public static partial void ResponseTopicRefused(ILogger logger, string verb, string topic);

    [LoggerMessage(EventId = 6027, Level = LogLevel.Warning, Message = "Remote command {Verb}: the answer on {Topic} was not acknowledged by the broker")]
    public static partial void AnswerNotDelivered(ILogger logger, string verb, string topic);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Warning, Message = "Outbox over its budget of {MaxBytes} bytes: dropped the oldest records of the lowest classes (alert {Alert}, event {Event}, drift {Drift}, metrics {Metrics}); logged at most once a minute")]
    public static partial void OutboxDropped(ILogger logger, long maxBytes, long alert, long @event, long drift, long metrics);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "A {Class} record for {Topic} is larger than the outbox budget of {MaxBytes} bytes (Telemetry:OutboxMaxBytes); dropped")]
    public static partial void OutboxRecordTooLarge(ILogger logger, string @class, string topic, long maxBytes);

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Moved {Count} records of the old outbox format to the device-wide sequence, from seq {First}")]
    public static partial void OutboxMigrated(ILogger logger, int count, long first);

    [LoggerMessage(EventId = 6004, Level = LogLevel.Debug, Message = "Outbox batch of {Count} record(s) on {Topic} (seq {First}..{Last}) was not acknowledged; it is sent again after reconnecting")]
    public static partial void OutboxBatchUnacknowledged(ILogger logger, int count, string topic, long first, long last);

    [LoggerMessage(EventId = 7040, Level = LogLevel.Error, Message = "Refused the broker's TLS certificate: {Problem}")]
    public static partial void BrokerCertificateRefused(ILogger logger, string problem);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "systemd watchdog: WatchdogSec {Seconds} s; WATCHDOG=1 is sent while the reconcile loop makes progress")]
    public static partial void SystemdWatchdogEnabled(ILogger logger, double seconds);

    [LoggerMessage(EventId = 7002, Level = LogLevel.Error, Message = "systemd watchdog: pings stopped, the reconcile loop made no progress for {Seconds} s; systemd restarts the service within {WatchdogSeconds} s unless it recovers")]
    public static partial void SystemdWatchdogStopped(ILogger logger, double seconds, double watchdogSeconds);

    [LoggerMessage(EventId = 7003, Level = LogLevel.Information, Message = "systemd watchdog: the reconcile loop is making progress again; pings resumed")]
    public static partial void SystemdWatchdogResumed(ILogger logger);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Warning, Message = "systemd watchdog: WATCHDOG=1 could not be sent on NOTIFY_SOCKET: {Error}")]
    public static partial void SystemdNotifyFailed(ILogger logger, string error);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Warning, Message = "Test fault injection: the reconcile loop hangs at {Point} (EDGEAGENT_FAULT_HANG_AT; never set in production)")]
    public static partial void FaultHang(ILogger logger, string point);
}
