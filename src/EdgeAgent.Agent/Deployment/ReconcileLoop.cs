using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// The reconcile loop: on every wake (desired state, retry timer) it asks the pure planner for steps and runs them.
/// Each deployment moves Pending → Fetching → Verifying → Staging → Activating → Active, or Failed(reason); each state
/// is persisted before its side effect. A failure never touches the model that is serving.
/// </summary>
public sealed class ReconcileLoop : BackgroundService
{
    private readonly ReconcileSignal _signal;
    private readonly DesiredStateInbox _desired;
    private readonly DeploymentStore _store;
    private readonly BundleInstaller _installer;
    private readonly BundleStore _bundles;
    private readonly AcceptedVersions _accepted;
    private readonly TrustStore _trust;
    private readonly ModelCatalog _catalog;
    private readonly InferenceMeter _meter;
    private readonly EventLog _events;
    private readonly MqttSession _mqtt;
    private readonly AgentOptions _options;
    private readonly ILogger<ReconcileLoop> _logger;
    private readonly TimeProvider _time;

    public ReconcileLoop(
        ReconcileSignal signal,
        DesiredStateInbox desired,
        DeploymentStore store,
        BundleInstaller installer,
        BundleStore bundles,
        AcceptedVersions accepted,
        TrustStore trust,
        ModelCatalog catalog,
        InferenceMeter meter,
        EventLog events,
        MqttSession mqtt,
        IOptions<AgentOptions> options,
        ILogger<ReconcileLoop> logger,
        TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _signal = signal;
        _desired = desired;
        _store = store;
        _installer = installer;
        _bundles = bundles;
        _accepted = accepted;
        _trust = trust;
        _catalog = catalog;
        _meter = meter;
        _events = events;
        _mqtt = mqtt;
        _options = options.Value;
        _logger = logger;
        _time = time;
        _desired.Accepted += (_, _) => CancelIfSuperseded();
        _mqtt.BirthModels = () => [.. _store.Snapshot().Values.Where(r => r.ActiveVersion is not null).Select(r => new { name = r.Name, version = r.ActiveVersion })];
    }

    /// <summary>Completed passes of the loop; the watchdog and tests watch it move.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    private long _passes;
    private long _seenGeneration;
    private byte[]? _pendingRoot;
    private CancellationTokenSource? _deployment;
    private (string Model, string Version)? _deploying;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        try
        {
            Recover();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // E.g. a full disk while recording a reload failure: serve what could be loaded and go on.
            Log.ReconcileError(_logger, ex);
        }

        _mqtt.AddStandingSubscription(_mqtt.Topics.DeviceDesired(_options.DeviceId), _desired.Receive);
        _mqtt.AddStandingSubscription(_mqtt.Topics.TrustRoot(), message =>
        {
            // Only recorded here; the loop verifies it (no crypto or disk I/O on the MQTT receive path).
            Volatile.Write(ref _pendingRoot, message.Payload);
            _signal.Wake();
        });
        var retry = TimeSpan.FromSeconds(_options.RetryIntervalSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                _desired.Persist();
                if (Interlocked.Exchange(ref _pendingRoot, null) is { Length: > 0 } root)
                {
                    var before = _trust.LastRootError;
                    if (_trust.Offer(root))
                    {
                        _events.TrustRoot(_trust.Root!.Version, null);
                    }
                    else if (_trust.LastRootError is { } error && error != before)
                    {
                        _events.TrustRoot(_trust.Root?.Version ?? 0, error);
                    }
                }

                ResetAttemptsOnNewDesiredState();
                var plan = DeploymentPlanner.Plan(_desired.Current, _store.Snapshot(), _options.MaxAttempts);
                foreach (var step in plan.Steps)
                {
                    stoppingToken.ThrowIfCancellationRequested();
                    await ExecuteAsync(step, stoppingToken);
                }

                Interlocked.Increment(ref _passes);
                await _signal.WaitAsync(retry, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Errors become reported state at the step boundary; anything reaching here is logged and retried.
                Log.ReconcileError(_logger, ex);
                await WaitQuietlyAsync(retry, stoppingToken);
            }
        }
    }

    private async Task WaitQuietlyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _signal.WaitAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>An operator who publishes desired state again asks for another try: failed attempts start over.</summary>
    private void ResetAttemptsOnNewDesiredState()
    {
        var generation = _desired.Generation;
        if (generation == _seenGeneration)
        {
            return;
        }

        _seenGeneration = generation;
        foreach (var want in _desired.Current.Models)
        {
            if (_store.Get(want.Name) is { State: DeploymentStates.Failed, Attempts: > 0 } record && record.TargetVersion == want.Version)
            {
                _store.Update(want.Name, r => r! with { Attempts = 0 });
            }
        }
    }

    /// <summary>Cancels the deployment in progress when desired state no longer asks for that version.</summary>
    private void CancelIfSuperseded()
    {
        if (_deploying is not { } deploying)
        {
            return;
        }

        var wanted = _desired.Current.Models.FirstOrDefault(m => m.Name == deploying.Model)?.Version;
        if (wanted != deploying.Version)
        {
            try
            {
                Volatile.Read(ref _deployment)?.Cancel();
            }
            catch (ObjectDisposedException)
            {
                // That deployment just ended.
            }
        }
    }

    /// <summary>One start-up decision per model: reload what was Active; restart what was in flight.</summary>
    private void Recover()
    {
        foreach (var record in _store.Snapshot().Values)
        {
            if (record.ActiveVersion is { } version)
            {
                try
                {
                    // Expiry guards installation, not a version already serving: a restart must not unload it.
                    var envelope = File.ReadAllBytes(_bundles.EnvelopePath(record.Name, version));
                    var manifest = _installer.Verify(envelope, record.Name, version, reload: true);
                    _installer.VerifyInstalled(manifest);
                    var model = OnnxModel.Load(record.Name, version, _bundles.FilePath(record.Name, version, manifest.ModelFile!));
                    _catalog.Activate(model);
                    _meter.Track(record.Name, version);
                    _accepted.Record(record.Name, version, ManifestVerifier.PayloadSha256(envelope));
                    Log.Recovered(_logger, record.Name, version);
                }
                catch (Exception ex) when (ex is IOException or BundleRejectedException or UnauthorizedAccessException)
                {
                    var reason = ex is BundleRejectedException b ? b.Describe() : ex.Message;
                    Log.RecoverFailed(_logger, record.Name, version, reason);
                    // Attempts start over: the planner fetches and installs this version again.
                    _store.Update(record.Name, r => r! with { ActiveVersion = null, State = DeploymentStates.Failed, Reason = $"reload failed: {reason}", Attempts = 0, Updated = _time.GetUtcNow() });
                    continue;
                }
            }

            if (DeploymentStates.IsInProgress(record.State))
            {
                // Interrupted mid-deployment: the serving model is untouched; the planner restarts the attempt.
                _store.Update(record.Name, r => r! with { State = DeploymentStates.Failed, Reason = $"interrupted while {record.State}", Updated = _time.GetUtcNow() });
            }
        }
    }

    private async Task ExecuteAsync(DeploymentStep step, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case DeploymentStep.Deploy deploy:
                await DeployAsync(deploy, cancellationToken);
                break;
            case DeploymentStep.Reactivate reactivate:
                _store.Update(reactivate.Model, r => r! with { TargetVersion = reactivate.Version, State = DeploymentStates.Active, Reason = null, Attempts = 0, Updated = _time.GetUtcNow() });
                _events.Deployment(reactivate.Model, reactivate.Version, DeploymentStates.Active);
                Log.StateChanged(_logger, reactivate.Model, reactivate.Version, DeploymentStates.Active);
                break;
            case DeploymentStep.Unload unload:
                _catalog.Unload(unload.Model);
                _meter.Untrack(unload.Model);
                _store.Remove(unload.Model);
                _events.Deployment(unload.Model, string.Empty, DeploymentStates.Removed);
                Log.Unloaded(_logger, unload.Model);
                break;
        }
    }

    private async Task DeployAsync(DeploymentStep.Deploy step, CancellationToken stoppingToken)
    {
        var (name, version) = (step.Model, step.Version);
        Log.Deploying(_logger, name, version, step.Attempt);
        using var deployment = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var cancellationToken = deployment.Token;
        Volatile.Write(ref _deployment, deployment);
        _deploying = (name, version);
        CancelIfSuperseded();
        try
        {
            Transition(name, version, DeploymentStates.Fetching, attempts: step.Attempt);
            var (manifest, envelope) = await _installer.FetchManifestAsync(name, version, cancellationToken);

            Transition(name, version, DeploymentStates.Verifying);
            _installer.EnsureDiskSpace(manifest);

            Transition(name, version, DeploymentStates.Fetching);
            await _installer.FetchFilesAsync(manifest, null, cancellationToken);

            Transition(name, version, DeploymentStates.Verifying);
            var modelPath = _installer.Install(manifest, envelope);

            Transition(name, version, DeploymentStates.Staging);
            var model = OnnxModel.Load(name, version, modelPath);

            if (_desired.Current.Models.FirstOrDefault(m => m.Name == name)?.Version != version)
            {
                model.Dispose();
                throw new OperationCanceledException(cancellationToken);
            }

            Transition(name, version, DeploymentStates.Activating);
            _catalog.Activate(model);
            _meter.Track(name, version);
            _accepted.Record(name, version, ManifestVerifier.PayloadSha256(envelope));
            _store.Update(name, r => r! with { ActiveVersion = version, State = DeploymentStates.Active, Reason = null, Updated = _time.GetUtcNow() });
            _events.Deployment(name, version, DeploymentStates.Active);
            Log.Activated(_logger, name, version);
        }
        catch (BundleRejectedException ex)
        {
            Fail(name, version, ex.Describe());
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Fail(name, version, $"io-error: {ex.Message}");
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            // Desired state moved on while this version was on its way: the next pass plans what is wanted now.
            Fail(name, version, "superseded: desired state changed during the deployment");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            Log.ReconcileError(_logger, ex);
            Fail(name, version, $"error: {ex.Message}");
        }
        finally
        {
            _deploying = null;
            Volatile.Write(ref _deployment, null);
        }
    }

    private void Transition(string name, string version, string state, int? attempts = null)
    {
        Log.StateChanged(_logger, name, version, state);
        _store.Update(name, r => new Core.Deployment.ModelRecord
        {
            Name = name,
            ActiveVersion = r?.ActiveVersion,
            TargetVersion = version,
            State = state,
            Attempts = attempts ?? r?.Attempts ?? 1,
            Updated = _time.GetUtcNow(),
        });
        _events.Deployment(name, version, state);
    }

    private void Fail(string name, string version, string reason)
    {
        Log.DeploymentFailed(_logger, name, version, reason);
        _store.Update(name, r => r! with { State = DeploymentStates.Failed, Reason = reason, Updated = _time.GetUtcNow() });
        _events.Deployment(name, version, DeploymentStates.Failed, reason);
    }
}
