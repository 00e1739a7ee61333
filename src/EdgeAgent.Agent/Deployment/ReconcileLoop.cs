using System.Collections.Concurrent;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Desired;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// The reconcile loop: on every wake (desired state, retry timer, probation check) it asks the pure planner for steps and
/// runs them. A deployment moves Pending → Fetching → Verifying → Staging → (Staged) → Activating → Probation → Active,
/// or RollingBack → RolledBack, or Failed(reason); each state is persisted before its side effect, and one recovery
/// decision per model at start-up resumes or rolls back. A failure before activation never touches the serving model.
/// </summary>
public sealed class ReconcileLoop : BackgroundService
{
    private static readonly TimeSpan ProbationCheck = TimeSpan.FromSeconds(1);

    private readonly ReconcileSignal _signal;
    private readonly DesiredStateInbox _desired;
    private readonly DeploymentStore _store;
    private readonly BundleInstaller _installer;
    private readonly BundleStore _bundles;
    private readonly AcceptedVersions _accepted;
    private readonly TrustStore _trust;
    private readonly ModelCatalog _catalog;
    private readonly IModelLoader _loader;
    private readonly InferenceMeter _meter;
    private readonly EventLog _events;
    private readonly MqttSession _mqtt;
    private readonly VersionRetention _retention;
    private readonly AcceptanceRunner _acceptance;
    private readonly DeploymentProgress _progress;
    private readonly ReconcileWatchdog _watchdog;
    private readonly AgentOptions _options;
    private readonly ServingOptions _serving;
    private readonly MaintenanceWindow? _window;
    private readonly ILogger<ReconcileLoop> _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, ProbationStats> _baselines = new(StringComparer.Ordinal);

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
        VersionRetention retention,
        DeploymentProgress progress,
        ChunkFetcher chunks,
        AcceptanceRunner acceptance,
        ReconcileWatchdog watchdog,
        IModelLoader loader,
        IOptions<AgentOptions> options,
        IOptions<ServingOptions> serving,
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
        _loader = loader;
        _meter = meter;
        _events = events;
        _mqtt = mqtt;
        _retention = retention;
        _acceptance = acceptance;
        _progress = progress;
        _watchdog = watchdog;
        _options = options.Value;
        _serving = serving?.Value ?? new ServingOptions();
        _window = _options.MaintenanceWindow is { Length: > 0 } w && MaintenanceWindow.TryParse(w, out var parsed) ? parsed : null;
        _logger = logger;
        _time = time;
        _desired.Accepted += (_, _) => CancelIfSuperseded();
        chunks.ChunkRejected += (topic, reason) => _events.Rejected(topic, reason);
        _mqtt.BirthModels = () => [.. _store.Snapshot().Values.Where(r => r.ActiveVersion is not null).Select(r => new BirthModel(r.Name, r.ActiveVersion))];
    }

    /// <summary>Completed passes of the loop; the watchdog and tests watch it move.</summary>
    public long Passes => Interlocked.Read(ref _passes);

    private long _passes;
    private long _seenGeneration;
    private long _seenLocalGeneration;
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

        _mqtt.AddStandingSubscription(_mqtt.Topics.DeviceDesired(_options.DeviceId), _desired.HandlerFor(DesiredStateInbox.DeviceSource));
        foreach (var group in _options.Groups.Distinct(StringComparer.Ordinal))
        {
            _mqtt.AddStandingSubscription(_mqtt.Topics.GroupDesired(group), _desired.HandlerFor("group:" + group));
        }

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
                if (FaultInjection.IsHangArmed($"pass:{Interlocked.Read(ref _passes) + 1}"))
                {
                    Log.FaultHang(_logger, $"pass:{Interlocked.Read(ref _passes) + 1}");
                    await Task.Delay(Timeout.Infinite, stoppingToken);
                }

                _watchdog.Beat();
                _desired.Persist();
                while (_desired.Rejections.TryDequeue(out var rejected))
                {
                    _events.Rejected(rejected.Topic, rejected.Error);
                }

                OfferTrustRoot();
                ResetAttemptsOnNewDesiredState();
                var plan = DeploymentPlanner.Plan(_desired.Current, _store.Snapshot(), _options.MaxAttempts, _time.GetUtcNow());
                foreach (var step in plan.Steps)
                {
                    stoppingToken.ThrowIfCancellationRequested();
                    await ExecuteAsync(step, stoppingToken);
                    _watchdog.Beat();
                }

                _retention.Enforce();
                Interlocked.Increment(ref _passes);
                await IdleAsync(NextWake(retry), stoppingToken);
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

    private void OfferTrustRoot()
    {
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
    }

    /// <summary>The retry interval, or sooner when a probation needs checking or a staged version's activation time comes.</summary>
    private TimeSpan NextWake(TimeSpan retry)
    {
        var now = _time.GetUtcNow();
        var wake = retry;
        foreach (var record in _store.Snapshot().Values)
        {
            if (record.State == DeploymentStates.Probation)
            {
                wake = wake < ProbationCheck ? wake : ProbationCheck;
            }
            else if (record.State == DeploymentStates.Staged && record.ActivateAt is { } at)
            {
                var until = at - now;
                wake = until < wake ? until : wake;
            }
        }

        return wake < TimeSpan.FromMilliseconds(50) ? TimeSpan.FromMilliseconds(50) : wake;
    }

    /// <summary>
    /// Waits until woken or <paramref name="timeout"/> passes, beating the watchdog every
    /// <see cref="ReconcileWatchdog.BeatInterval"/>: an idle loop that returns from its wait on time is a healthy one,
    /// while a loop stuck inside a step never gets here. The slices are measured on the same clock as the wait itself
    /// (the semaphore's), so the pass comes when it came before the watchdog existed.
    /// </summary>
    private async Task IdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            _watchdog.Beat();
            var left = timeout - System.Diagnostics.Stopwatch.GetElapsedTime(started);
            if (left <= TimeSpan.Zero || await _signal.WaitAsync(left < _watchdog.BeatInterval ? left : _watchdog.BeatInterval, cancellationToken))
            {
                return;
            }
        }
    }

    private async Task WaitQuietlyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await IdleAsync(timeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // Stopping.
        }
    }

    /// <summary>
    /// An operator who publishes desired state again asks for another try: failed or rolled-back attempts start over.
    /// A fleet publish re-arms only the models the fleet decides (not those pinned by a local install); a new local
    /// install re-arms only the pinned ones.
    /// </summary>
    private void ResetAttemptsOnNewDesiredState()
    {
        var fleet = _desired.Generation;
        var local = _desired.LocalGeneration;
        if (fleet == _seenGeneration && local == _seenLocalGeneration)
        {
            return;
        }

        var pinned = _desired.Local.Models.Select(m => m.Name).ToHashSet(StringComparer.Ordinal);
        var rearm = _desired.Current.Models.Where(m => pinned.Contains(m.Name) ? local != _seenLocalGeneration : fleet != _seenGeneration).ToList();
        _seenGeneration = fleet;
        _seenLocalGeneration = local;
        foreach (var want in rearm)
        {
            if (_store.Get(want.Name) is { State: DeploymentStates.Failed or DeploymentStates.RolledBack, Attempts: > 0 } record && record.TargetVersion == want.Version)
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

    /// <summary>
    /// One start-up decision per model. Interrupted before Staging: the serving version is untouched and the download
    /// resumes. Interrupted in Staging or Activating: the previous version serves and the attempt counts. Interrupted in
    /// Probation: the new version resumes its probation from the start, unless it has used up its attempts (a crash
    /// loop), then it is rolled back. Interrupted while RollingBack: the rollback is finished.
    /// </summary>
    private void Recover()
    {
        foreach (var record in _store.Snapshot().Values)
        {
            var now = _time.GetUtcNow();
            switch (record.State)
            {
                case DeploymentStates.Probation when record.Attempts < _options.MaxAttempts && record.ActiveVersion is { } candidate:
                    if (Reload(record.Name, candidate))
                    {
                        var length = (record.ProbationEnds ?? now) - (record.ProbationStarted ?? now);
                        _meter.StartProbation(record.Name, candidate);
                        _store.Update(record.Name, r => r! with { Attempts = r.Attempts + 1, ProbationStarted = now, ProbationEnds = now + length, Reason = "probation restarted after an agent restart", Updated = now });
                        _events.Deployment(record.Name, candidate, DeploymentStates.Probation, "probation restarted after an agent restart");
                        Log.Recovered(_logger, record.Name, candidate);
                    }
                    else
                    {
                        RollBack(record.Name, candidate, "its files could not be reloaded at start-up");
                    }

                    continue;
                case DeploymentStates.Probation when record.ActiveVersion is { } candidate:
                    RollBack(record.Name, candidate, $"the agent stopped {record.Attempts} times while this version was in probation");
                    continue;
                case DeploymentStates.RollingBack:
                    RollBack(record.Name, record.TargetVersion ?? string.Empty, record.Reason ?? "rollback interrupted by a restart");
                    continue;
            }

            if (record.ActiveVersion is { } version && !Reload(record.Name, version))
            {
                continue;
            }

            if (DeploymentStates.IsInProgress(record.State))
            {
                // Staging/Activating count as an attempt (the model may be what stopped the agent); earlier states resume freely.
                Fail(record.Name, record.TargetVersion ?? string.Empty, $"interrupted while {record.State}");
            }
        }

        _retention.Enforce();
    }

    /// <summary>An ONNX Runtime session with the configured options; a provider fallback is logged (and shown in health).</summary>
    private OnnxModel LoadModel(BundleManifest manifest, string path)
    {
        var model = _loader.Load(manifest, path, _serving);
        model.DriftBaseline = manifest.Drift;
        var (name, version) = (manifest.Name, manifest.Version);
        if (model.ProviderFallback is { } fallback)
        {
            Log.ProviderFallback(_logger, name, version, model.ExecutionProvider, fallback);
        }

        return model;
    }

    /// <summary>Loads a version that served before from disk (signature and files checked again) into its slot.</summary>
    private bool Reload(string name, string version)
    {
        try
        {
            var (manifest, envelope) = _installer.TryInstalled(name, version, revert: true)
                ?? throw new IOException($"{_bundles.VersionDirectory(name, version)} is missing");
            var model = LoadModel(manifest, _bundles.FilePath(name, version, manifest.ModelFile!));
            _catalog.Activate(model);
            _meter.Track(name, version);
            Log.Recovered(_logger, name, version);
            _watchdog.Beat();
            return true;
        }
        catch (Exception ex) when (ex is IOException or BundleRejectedException or UnauthorizedAccessException)
        {
            var reason = ex is BundleRejectedException b ? b.Describe() : ex.Message;
            Log.RecoverFailed(_logger, name, version, reason);

            // Attempts start over: the planner fetches and installs this version again.
            var now = _time.GetUtcNow();
            var why = $"reload failed: {reason}";
            _store.Update(name, r => r! with { ActiveVersion = null, State = DeploymentStates.Failed, Reason = why, Attempts = 0, LastFailure = new FailureRecord(version, DeploymentStates.Failed, why, now), Updated = now });
            _events.Deployment(name, version, DeploymentStates.Failed, why);
            return false;
        }
    }

    private async Task ExecuteAsync(DeploymentStep step, CancellationToken cancellationToken)
    {
        switch (step)
        {
            case DeploymentStep.Deploy deploy:
                await DeployAsync(deploy, cancellationToken);
                break;
            case DeploymentStep.Watch watch:
                Watch(watch.Model, watch.Version);
                break;
            case DeploymentStep.Revert revert:
                Revert(revert.Model, revert.Version);
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
            Transition(name, version, DeploymentStates.Pending, attempts: step.Attempt);
            var (manifest, envelope) = _installer.TryInstalled(name, version, revert: false) ?? await FetchAsync(name, version, cancellationToken);

            Transition(name, version, DeploymentStates.Staging);
            var model = LoadModel(manifest, _bundles.FilePath(name, version, manifest.ModelFile!));
            FaultInjection.Hit("loaded");
            try
            {
                // A model that fails its acceptance vectors or warm-up never serves.
                var accepted = _acceptance.Run(model, manifest, _bundles.VersionDirectory(name, version), cancellationToken);
                Log.Accepted(_logger, name, version, accepted.VectorsPassed, accepted.WarmupRuns, accepted.WarmupMeanMilliseconds);
                model.WarmupMilliseconds = accepted.WarmupRuns > 0 ? accepted.WarmupMeanMilliseconds : null;
            }
            catch
            {
                model.Dispose();
                throw;
            }

            var want = _desired.Current.Models.FirstOrDefault(m => m.Name == name);
            if (want?.Version != version)
            {
                model.Dispose();
                throw new OperationCanceledException(cancellationToken);
            }

            var now = _time.GetUtcNow();
            var activateAt = MaintenanceWindow.ActivationTime(now, want.ActivateAfter, _window);
            if (activateAt > now)
            {
                // Downloaded and checked; the slot changes only in the activation window.
                model.Dispose();
                _store.Update(name, r => r! with { State = DeploymentStates.Staged, ActivateAt = activateAt, Reason = null, Updated = now });
                _events.Deployment(name, version, DeploymentStates.Staged, $"activates at {activateAt:O}");
                Log.StateChanged(_logger, name, version, DeploymentStates.Staged);
                return;
            }

            Activate(name, version, model, envelope, want);
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
            _progress.Clear(name);
            _deploying = null;
            Volatile.Write(ref _deployment, null);
        }
    }

    private async Task<(BundleManifest Manifest, byte[] Envelope)> FetchAsync(string name, string version, CancellationToken cancellationToken)
    {
        Transition(name, version, DeploymentStates.Fetching);

        // Waits on the broker are bounded by Agent:FetchTimeoutSeconds (then the attempt fails with `timeout` and the loop
        // beats again), so the watchdog allows that much extra silence before the manifest and after each chunk written.
        // A healthy download, however big or rate-capped, beats on every chunk and is never reported as stalled; a
        // download whose chunks stop coming fails on its own timeout; only a step that hangs beyond both is a stall.
        var brokerWait = TimeSpan.FromSeconds(_options.FetchTimeoutSeconds);
        _watchdog.Beat(brokerWait);
        var (manifest, envelope) = await _installer.FetchManifestAsync(name, version, cancellationToken);
        FaultInjection.Hit("manifest-verified");

        Transition(name, version, DeploymentStates.Verifying);
        _retention.MakeRoom(manifest);
        _installer.EnsureDiskSpace(manifest);

        Transition(name, version, DeploymentStates.Fetching);
        var total = manifest.TotalLength;
        _watchdog.Beat(brokerWait);
        await _installer.FetchFilesAsync(
            manifest,
            new InlineProgress(bytes =>
            {
                _watchdog.Beat(brokerWait);
                _progress.Report(name, bytes, total);
            }),
            cancellationToken);

        // Copying and hashing a big model into its version folder beats on every block copied.
        Transition(name, version, DeploymentStates.Verifying);
        _installer.Install(manifest, envelope, new InlineProgress(_ => _watchdog.Beat()));
        return (manifest, envelope);
    }

    /// <summary>Swaps the slot (requests in flight finish on the old session), then watches the new version in probation.</summary>
    private void Activate(string name, string version, OnnxModel model, byte[] envelope, DesiredModel want)
    {
        var record = _store.Get(name);

        // The version to fall back to: the one serving, unless it is itself an unproven version in probation.
        var previous = record is { State: DeploymentStates.Probation } ? null : record?.ActiveVersion;
        var retained = previous is null ? record?.Retained ?? [] : [previous, .. (record?.Retained ?? []).Where(v => v != previous && v != version)];
        Transition(name, version, DeploymentStates.Activating);
        var baseline = _meter.Baseline(name);
        _catalog.Activate(model);
        _meter.Track(name, version);
        FaultInjection.Hit("swapped");

        var seconds = want.ProbationSeconds ?? _options.ProbationSeconds;
        var now = _time.GetUtcNow();
        if (seconds <= 0)
        {
            _store.Update(name, r => r! with { ActiveVersion = version, Retained = retained, State = DeploymentStates.Active, Reason = null, ActivateAt = null, Updated = now });
            Succeeded(name, version, envelope, null);
            return;
        }

        _baselines[name] = baseline;
        _meter.StartProbation(name, version);
        var ends = now.AddSeconds(seconds);
        _store.Update(name, r => r! with { ActiveVersion = version, Retained = retained, State = DeploymentStates.Probation, Reason = null, ActivateAt = null, ProbationStarted = now, ProbationEnds = ends, Updated = now });
        _events.Deployment(name, version, DeploymentStates.Probation, $"watched until {ends:O}");
        Log.StateChanged(_logger, name, version, DeploymentStates.Probation);
        _signal.Wake();
    }

    private void Succeeded(string name, string version, byte[]? envelope, string? summary)
    {
        envelope ??= File.ReadAllBytes(_bundles.EnvelopePath(name, version));
        FaultInjection.Hit("before-accepted");
        _accepted.Record(name, version, ManifestVerifier.PayloadSha256(envelope));
        _events.Deployment(name, version, DeploymentStates.Active, summary);
        Log.Activated(_logger, name, version);
    }

    /// <summary>Checks a version in probation: passes it, keeps watching, or rolls it back with the numbers.</summary>
    private void Watch(string name, string version)
    {
        var record = _store.Get(name)!;
        var want = _desired.Current.Models.FirstOrDefault(m => m.Name == name);
        var target = want?.ProbationRequests ?? _options.ProbationRequests;
        var figures = _meter.ProbationFigures(name) ?? new ProbationStats(0, 0, 0, 0);
        _baselines.TryGetValue(name, out var baseline);
        var now = _time.GetUtcNow();
        var verdict = ProbationPolicy.Evaluate(figures, baseline, _options.ProbationLimits(), now, record.ProbationEnds ?? now, target);
        switch (verdict.Outcome)
        {
            case ProbationOutcome.Passed:
                _meter.EndProbation(name);
                _baselines.TryRemove(name, out _);
                FaultInjection.Hit("probation-passed");
                _store.Update(name, r => r! with { State = DeploymentStates.Active, Reason = null, ProbationStarted = null, ProbationEnds = null, Updated = now });
                Succeeded(name, version, null, "probation passed: " + verdict.Summary);
                break;
            case ProbationOutcome.Breached:
                RollBack(name, version, "probation failed: " + verdict.Summary);
                break;
        }
    }

    /// <summary>Puts the previous version back in the slot (or empties it when there was none) and records why.</summary>
    private void RollBack(string name, string candidate, string reason)
    {
        var record = _store.Get(name)!;
        var previous = record.PreviousVersion;
        _store.Update(name, r => r! with { State = DeploymentStates.RollingBack, Reason = reason, Updated = _time.GetUtcNow() });
        _events.Deployment(name, candidate, DeploymentStates.RollingBack, reason);
        Log.RollingBack(_logger, name, candidate, previous ?? "(none)", reason);
        _meter.EndProbation(name);
        _baselines.TryRemove(name, out _);
        string? serving = null;
        if (previous is not null && Reload(name, previous))
        {
            serving = previous;
            FaultInjection.Hit("rollback-swapped");
        }
        else
        {
            _catalog.Unload(name);
            _meter.Untrack(name);
        }

        var now = _time.GetUtcNow();
        _store.Update(name, r => r! with
        {
            ActiveVersion = serving,
            TargetVersion = candidate,
            Retained = [.. r.Retained.Where(v => v != serving && v != candidate)],
            State = DeploymentStates.RolledBack,
            Reason = reason,
            Attempts = Math.Max(1, r.Attempts),
            ProbationStarted = null,
            ProbationEnds = null,
            LastFailure = new FailureRecord(candidate, DeploymentStates.RolledBack, reason, now),
            Updated = now,
        });
        _events.Deployment(name, candidate, DeploymentStates.RolledBack, reason);
        Log.StateChanged(_logger, name, candidate, DeploymentStates.RolledBack);
    }

    /// <summary>Instant switch to a version that served here before and is still on disk (operator rollback, aborted rollout).</summary>
    private void Revert(string name, string version)
    {
        var record = _store.Get(name)!;
        Transition(name, version, DeploymentStates.Activating);
        try
        {
            var (manifest, _) = _installer.TryInstalled(name, version, revert: true)!.Value;
            var model = LoadModel(manifest, _bundles.FilePath(name, version, manifest.ModelFile!));
            _meter.EndProbation(name);
            _baselines.TryRemove(name, out _);
            _catalog.Activate(model);
            _meter.Track(name, version);
        }
        catch (Exception ex) when (ex is IOException or BundleRejectedException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The kept copy is gone or damaged: forget it, so the next pass fetches this version like any other.
            _store.Update(name, r => r! with { Retained = [.. r.Retained.Where(v => v != version)] });
            Fail(name, version, ex is BundleRejectedException b ? b.Describe() : $"io-error: {ex.Message}");
            return;
        }

        // The version it replaces is kept for rollback only if it had proved itself (not one still in probation).
        var keep = record.State != DeploymentStates.Probation ? record.ActiveVersion : null;
        var now = _time.GetUtcNow();
        _store.Update(name, r => r! with
        {
            ActiveVersion = version,
            Retained = [.. new[] { keep }.OfType<string>().Concat(r.Retained).Where(v => v != version).Distinct()],
            State = DeploymentStates.Active,
            Reason = null,
            Attempts = 0,
            ProbationStarted = null,
            ProbationEnds = null,
            Updated = now,
        });
        _events.Deployment(name, version, DeploymentStates.Active, "reverted to a version kept on this device");
        Log.Activated(_logger, name, version);
    }

    private void Transition(string name, string version, string state, int? attempts = null)
    {
        _watchdog.Beat();
        Log.StateChanged(_logger, name, version, state);
        _store.Update(name, r => (r ?? new ModelRecord { Name = name }) with
        {
            TargetVersion = version,
            State = state,
            Reason = null,
            Attempts = attempts ?? r?.Attempts ?? 1,
            Updated = _time.GetUtcNow(),
        });
        _events.Deployment(name, version, state);
    }

    private void Fail(string name, string version, string reason)
    {
        Log.DeploymentFailed(_logger, name, version, reason);
        var now = _time.GetUtcNow();
        _store.Update(name, r => r! with { State = DeploymentStates.Failed, Reason = reason, ActivateAt = null, LastFailure = new FailureRecord(version, DeploymentStates.Failed, reason, now), Updated = now });
        _events.Deployment(name, version, DeploymentStates.Failed, reason);
    }

    /// <summary>Reports progress on the calling thread (no synchronization context hop, unlike <see cref="Progress{T}"/>).</summary>
    private sealed class InlineProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}
