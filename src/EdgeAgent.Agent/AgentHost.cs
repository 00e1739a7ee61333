using EdgeAgent.Agent.Api;
using EdgeAgent.Agent.Capture;
using EdgeAgent.Agent.Commands;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Diagnostics;
using EdgeAgent.Agent.Drift;
using EdgeAgent.Agent.Hardware;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Systemd;
using EdgeAgent.Agent.Telemetry;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent;

/// <summary>Builds the agent: Generic Host with systemd integration, the adapters, the hosted services and the local API.</summary>
public static class AgentHost
{
    /// <summary>sun_path holds 108 bytes including the terminating NUL.</summary>
    public const int MaxUnixSocketPath = 107;

    /// <summary>
    /// Builds an agent from <paramref name="configuration"/> (sections Agent, Mqtt, Trust, Telemetry, Gpio). Options are
    /// validated when the host starts; a bad key surfaces as <see cref="OptionsValidationException"/>.
    /// </summary>
    /// <param name="gpio">Creates the GPIO controller (tests: one over a simulated driver); the board's own by default.</param>
    /// <param name="configure">
    /// Runs after the agent's own registrations, so a registration here replaces the default one (e.g. an
    /// <see cref="IModelLoader"/> that shares sessions between agents in one process).
    /// </param>
    public static WebApplication Build(IConfiguration configuration, Action<ILoggingBuilder>? logging = null, TimeProvider? time = null, GpioControllerFactory? gpio = null, Action<IServiceCollection>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            ApplicationName = "edge-agent",
            ContentRootPath = AppContext.BaseDirectory,
        });
        // Only the agent's own configuration: no appsettings.json next to the binary, no ASPNETCORE_/DOTNET_ settings.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddConfiguration(configuration);
        builder.Host.UseSystemd();

        // journald: UseSystemd picks the systemd console formatter only when systemd is the parent process; systemd also
        // sets JOURNAL_STREAM when the output goes to the journal (e.g. the agent started by a wrapper in a unit). The
        // formatter writes one line per entry with its syslog priority, "<6>" for Information, "<4>" Warning, "<3>" Error.
        if (SystemdHelpers.IsSystemdService() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")))
        {
            builder.Logging.AddSystemdConsole();
        }

        // Per-request logs from ASP.NET Core would put logging on the inference hot path.
        if (configuration["Logging:LogLevel:Microsoft.AspNetCore"] is null)
        {
            builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        }
        logging?.Invoke(builder.Logging);
        // After the caller's logging set-up (which may clear the providers): the support bundle always has recent lines.
        var recentLogs = new RecentLogLines(time ?? TimeProvider.System);
        builder.Logging.AddProvider(recentLogs);

        var services = builder.Services;
        services.TryAddSingleton(time ?? TimeProvider.System);
        services.AddSingleton<IValidateOptions<AgentOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<MqttOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<TrustOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<TelemetryOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<ServingOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<GpioOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<CaptureOptions>, OptionsValidators>();
        services.AddSingleton<IValidateOptions<DriftOptions>, OptionsValidators>();
        services.AddOptions<AgentOptions>().BindConfiguration(AgentOptions.Section).ValidateOnStart();
        services.AddOptions<MqttOptions>().BindConfiguration(MqttOptions.Section).ValidateOnStart();
        services.AddOptions<TrustOptions>().BindConfiguration(TrustOptions.Section).ValidateOnStart();
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section).ValidateOnStart();
        services.AddOptions<ServingOptions>().BindConfiguration(ServingOptions.Section).ValidateOnStart();
        services.AddOptions<GpioOptions>().BindConfiguration(GpioOptions.Section).ValidateOnStart();
        services.AddOptions<CaptureOptions>().BindConfiguration(CaptureOptions.Section).ValidateOnStart();
        services.AddOptions<DriftOptions>().BindConfiguration(DriftOptions.Section).ValidateOnStart();

        var lockDirectory = configuration[$"{AgentOptions.Section}:{nameof(AgentOptions.StateDirectory)}"] ?? new AgentOptions().StateDirectory;
        if (!string.IsNullOrWhiteSpace(lockDirectory))
        {
            // Taken first, before anything (Kestrel included) touches the state directory or the socket.
            var instanceLock = new InstanceLock(lockDirectory);

            // Registered through a factory (and resolved below) so that disposing the host releases it.
            services.AddSingleton(_ => instanceLock);
        }

        services.AddSingleton<SessionSequence>();
        services.AddSingleton<MqttSession>();
        services.AddSingleton<ReconcileSignal>();
        services.AddSingleton<DesiredStateInbox>();
        services.AddSingleton<DeploymentStore>();
        services.AddSingleton<AcceptedVersions>();
        services.AddSingleton<BundleStore>();
        services.AddSingleton<TrustStore>();
        services.AddSingleton<ChunkFetcher>();
        services.AddSingleton<BundleInstaller>();
        services.AddSingleton<AcceptanceRunner>();
        services.AddSingleton<VersionRetention>();
        services.AddSingleton<DeploymentProgress>();
        services.AddSingleton<ReconcileWatchdog>();
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddSingleton<SystemdWatchdogPing>();
        services.AddSingleton<SideloadInstaller>();
        services.AddSingleton<ModelCatalog>();
        services.AddSingleton<InferenceMeter>();
        services.AddSingleton(gpio ?? (() => new System.Device.Gpio.GpioController()));
        services.AddSingleton<GpioPort>();
        services.AddSingleton<GpioRules>();
        services.AddSingleton<IOutputObserver>(sp => new OutputObservers(sp.GetRequiredService<GpioRules>(), sp.GetRequiredService<InferenceMeter>()));
        services.AddSingleton<StatusLed>();
        services.AddSingleton<GpioInputs>();
        services.AddSingleton<ModelDriftStates>();
        services.AddSingleton<CaptureStore>();
        services.AddSingleton<CaptureRecorder>();
        services.AddSingleton<IInferenceTap>(sp => sp.GetRequiredService<CaptureRecorder>());
        services.AddSingleton<DriftMonitor>();
        services.AddSingleton<IInferenceTap>(sp => sp.GetRequiredService<DriftMonitor>());
        services.AddSingleton<IInferenceTap>(sp => sp.GetRequiredService<InferenceMeter>());
        services.AddSingleton<InferenceRunner>();
        services.AddSingleton<ModelAdmission>();
        services.PostConfigure<ServingOptions>(o => o.MaxConcurrentRequests = o.MaxConcurrentRequests == 0 ? Environment.ProcessorCount : o.MaxConcurrentRequests);
        services.AddSingleton<Outbox>();
        services.AddSingleton<EventLog>();
        services.TryAddSingleton<IModelLoader, OnnxModelLoader>();
        services.AddSingleton<ReconcileLoop>();
        services.AddSingleton<MetricsWindowService>();
        services.AddSingleton<OutboxPublisher>();
        services.AddSingleton<HealthReporter>();
        services.AddSingleton<ReportedStatePublisher>();
        services.AddSingleton(recentLogs);
        services.AddSingleton<SupportBundleBuilder>();
        services.AddSingleton<RemoteCommandService>();
        services.AddRemoteCommand<ReportNowCommand>();
        services.AddRemoteCommand<SupportBundleCommand>();
        services.AddRemoteCommand<CaptureExportCommand>();
        services.AddHostedService(sp => sp.GetRequiredService<MqttSession>());
        services.AddHostedService(sp => sp.GetRequiredService<ReconcileLoop>());
        services.AddHostedService(sp => sp.GetRequiredService<ReconcileWatchdog>());
        services.AddHostedService(sp => sp.GetRequiredService<SystemdWatchdogPing>());
        services.AddHostedService(sp => sp.GetRequiredService<MetricsWindowService>());
        services.AddHostedService(sp => sp.GetRequiredService<OutboxPublisher>());
        services.AddHostedService(sp => sp.GetRequiredService<HealthReporter>());
        services.AddHostedService(sp => sp.GetRequiredService<ReportedStatePublisher>());
        services.AddHostedService(sp => sp.GetRequiredService<RemoteCommandService>());
        services.AddHostedService(sp => sp.GetRequiredService<GpioRules>());
        services.AddHostedService(sp => sp.GetRequiredService<StatusLed>());
        services.AddHostedService(sp => sp.GetRequiredService<GpioInputs>());
        services.AddHostedService(sp => sp.GetRequiredService<CaptureRecorder>());
        services.AddHostedService(sp => sp.GetRequiredService<DriftMonitor>());

        var agent = configuration.GetSection(AgentOptions.Section);
        var socket = agent[nameof(AgentOptions.ApiSocket)] ?? new AgentOptions().ApiSocket;
        var listen = agent[nameof(AgentOptions.ApiListen)];
        var stateDirectory = agent[nameof(AgentOptions.StateDirectory)];
        // Read straight into buffers instead of waiting with a zero-byte read first: halves the receive calls for big
        // (binary tensor) bodies; the cost, a 4 KiB buffer per idle connection, is nothing for a local API.
        builder.WebHost.UseSockets(sockets => sockets.WaitForDataBeforeAllocatingBuffer = false);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            if (System.Text.Encoding.UTF8.GetByteCount(socket) <= MaxUnixSocketPath)
            {
                // Longer paths are reported by the options validator; binding them would abort inside Kestrel.
                PrepareSocket(socket);
                kestrel.ListenUnixSocket(socket);
            }

            if (!string.IsNullOrEmpty(listen) && System.Net.IPEndPoint.TryParse(listen, out var endpoint))
            {
                kestrel.Listen(endpoint);
            }
        });

        if (!string.IsNullOrEmpty(stateDirectory))
        {
            Directory.CreateDirectory(stateDirectory);
        }

        configure?.Invoke(services);
        var app = builder.Build();
        _ = app.Services.GetService<InstanceLock>();

        LocalApi.Map(app);
        return app;
    }

    private static void PrepareSocket(string socket)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(socket));
        if (!string.IsNullOrEmpty(dir))
        {
            Directory.CreateDirectory(dir);
        }

        // A socket left by a killed agent would block the bind (the instance lock says no other agent owns it). A
        // socket has no length; a file with content at that path is someone's data, not ours to delete.
        if (File.Exists(socket))
        {
            if (new FileInfo(socket).Length > 0)
            {
                throw new IOException($"Agent:ApiSocket {socket} is an existing file, not a socket; refusing to replace it");
            }

            File.Delete(socket);
        }
    }
}
