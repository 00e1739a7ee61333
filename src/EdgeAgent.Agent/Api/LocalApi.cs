using System.Buffers;
using System.Globalization;
using System.Text.Json;
using EdgeAgent.Agent.Capture;
using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Drift;
using EdgeAgent.Agent.Hardware;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Mqtt;
using EdgeAgent.Agent.Options;
using EdgeAgent.Agent.Serving;
using EdgeAgent.Agent.Telemetry;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Api;

/// <summary>
/// The local HTTP API (docs/inference-api.md): Open Inference Protocol v2 under <c>/v2</c> for apps, agent endpoints under
/// <c>/v1</c> for edgectl. Errors are <c>{"error": "..."}</c> with the protocol's status codes.
/// </summary>
public static class LocalApi
{
    /// <summary>Triton's binary tensor extension: length of the JSON part of a request or response body.</summary>
    public const string InferenceHeaderContentLength = "Inference-Header-Content-Length";

    private static readonly string[] ServerExtensions = ["binary_tensor_data"];

    public static void Map(IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/v2/health/live", () => Results.Json(new LiveAnswer(true), AgentJson.Http.Info<LiveAnswer>()));
        app.MapGet("/v2/health/ready", (ModelCatalog catalog, MqttSession mqtt) =>
            Results.Json(new ReadyAnswer(true, catalog.Active.Count, mqtt.IsConnected), AgentJson.Http.Info<ReadyAnswer>()));
        app.MapGet("/v2", () => Results.Json(new ServerMetadata("edge-agent", AgentInfo.Version, ServerExtensions), AgentJson.Http.Info<ServerMetadata>()));
        app.MapGet("/v2/models/{name}", (string name, ModelCatalog catalog) =>
            catalog.TryGet(name, out var model) && model is not null
                ? Results.Json(new ModelMetadata(model.Name, [model.Version], "onnxruntime_onnx", model.Inputs, model.Outputs), AgentJson.Info<ModelMetadata>())
                : Error(404, $"model '{name}' is not loaded on this device"));
        app.MapGet("/v2/models/{name}/ready", (string name, ModelCatalog catalog) =>
            catalog.Contains(name) ? Results.Json(new ModelReadyAnswer(name, true), AgentJson.Http.Info<ModelReadyAnswer>()) : Error(404, $"model '{name}' is not loaded on this device"));
        app.MapPost("/v2/models/{name}/infer", InferAsync);
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (HttpContext context, string name, string version, InferenceRunner runner, ModelCatalog catalog, DeploymentStore deployments, ModelAdmission admission, IOptions<AgentOptions> options) =>
            catalog.TryGet(name, out var model) && model?.Version == version
                ? InferAsync(context, name, runner, catalog, deployments, admission, options)
                : Task.FromResult(Error(404, $"model '{name}' version {version} is not the one serving")));
        app.MapGet("/v1/status", (IServiceProvider services) => Results.Json(Status(services), AgentJson.Info<AgentStatus>()));
        app.MapGet("/v1/gpio", (GpioPort port, StatusLed led) => Results.Json(
            new GpioAnswer(port.Enabled, port.Available, port.DryRun, port.Error, led.Pattern, port.Pins()),
            AgentJson.Info<GpioAnswer>()));
        app.MapGet("/v1/support-bundle", (Diagnostics.SupportBundleBuilder builder) =>
        {
            var bundle = builder.Build();
            return Results.File(bundle.Content, "application/gzip", bundle.FileName);
        });
        app.MapGet("/v1/metrics", (HttpContext context, MetricsWindowService windows, Outbox outbox, IOptions<AgentOptions> agent) =>
        {
            var limit = 20;
            if (context.Request.Query.TryGetValue("limit", out var text)
                && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MetricsWindowService.RecentCapacity))
            {
                return Error(400, $"limit must be a whole number from 1 to {MetricsWindowService.RecentCapacity}");
            }

            return Results.Json(
                new MetricsAnswer(agent.Value.DeviceId, windows.Window.TotalSeconds, windows.Recent(limit), outbox.Status()),
                AgentJson.Info<MetricsAnswer>());
        });
        app.MapPost("/v1/bundles", InstallAsync);
        app.MapGet("/v1/capture", (HttpContext context, CaptureStore store) =>
        {
            var query = context.Request.Query;
            string? model = query.TryGetValue("model", out var m) ? m.ToString() : null;
            if (!TryQueryNumber(query, "after", 0, out var after) || !TryQueryNumber(query, "limit", 500, out var limit) || limit is < 1 or > 10_000)
            {
                return Error(400, "after must be a sample id (0 or more) and limit a number from 1 to 10000");
            }

            var samples = store.Read(model, after, (int)limit);
            return Results.Json(
                new CaptureSamplesAnswer(
                    samples.Select(s => new CaptureSampleAnswer(s.Id, s.Model, s.Version, s.At, s.Reason, JsonElement.Parse(s.Json))),
                    samples.Count == 0 ? after : samples[^1].Id,
                    samples.Count == limit,
                    store.Count,
                    store.Bytes,
                    store.Dropped),
                AgentJson.Info<CaptureSamplesAnswer>());
        });
        app.MapDelete("/v1/capture", (HttpContext context, CaptureStore store) =>
        {
            var query = context.Request.Query;
            string? model = query.TryGetValue("model", out var m) ? m.ToString() : null;
            if (!query.ContainsKey("upTo") || !TryQueryNumber(query, "upTo", 0, out var upTo))
            {
                return Error(400, "upTo must be the id of the last sample to delete");
            }

            var deleted = store.Delete(model, upTo);
            return Results.Json(new CaptureDeleteAnswer(deleted, store.Count, store.Bytes), AgentJson.Http.Info<CaptureDeleteAnswer>());
        });
        app.MapDelete("/v1/pins/{name}", (string name, DesiredStateInbox desired) =>
            desired.Release(name)
                ? Results.Json(new PinAnswer(name, false), AgentJson.Http.Info<PinAnswer>())
                : Error(404, $"model '{name}' is not pinned by a local install"));
        app.MapGet("/v1/models", (ModelCatalog catalog, InferenceMeter meter) =>
        {
            var totals = meter.Totals().ToDictionary(t => t.Model, StringComparer.Ordinal);
            return Results.Json(
                catalog.Active.OrderBy(m => m.Name, StringComparer.Ordinal).Select(m =>
                {
                    totals.TryGetValue(m.Name, out var t);
                    return new ModelSummary(
                        m.Name,
                        m.Version,
                        m.Inputs,
                        m.Outputs,
                        t?.Requests ?? 0,
                        t?.Errors ?? 0,
                        t?.RatePerSecond ?? 0,
                        new LatencyPercentiles(t?.P50Ms ?? 0, t?.P95Ms ?? 0, t?.P99Ms ?? 0));
                }),
                AgentJson.Info<IEnumerable<ModelSummary>>());
        });
    }

    private static bool TryQueryNumber(IQueryCollection query, string key, long fallback, out long value)
    {
        value = fallback;
        return !query.TryGetValue(key, out var text)
            || long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }

    public static IResult Error(int status, string message) => Results.Json(new ErrorAnswer(message), AgentJson.Http.Info<ErrorAnswer>(), statusCode: status);

    /// <summary><c>POST /v1/bundles[?probationSeconds=N]</c> with a <c>.edgebundle</c> body: verify, install, pin (202).</summary>
    private static async Task<IResult> InstallAsync(HttpContext context, SideloadInstaller sideload)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = SideloadInstaller.MaxUploadBytes;
        }

        int? probation = null;
        if (context.Request.Query.TryGetValue("probationSeconds", out var text))
        {
            if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var seconds) || seconds > 7 * 86400)
            {
                return Error(400, "probationSeconds must be a whole number of seconds from 0 to 604800");
            }

            probation = seconds;
        }

        try
        {
            var manifest = await sideload.InstallAsync(context.Request.Body, context.Request.ContentLength, probation, context.RequestAborted);
            return Results.Json(new InstallAnswer(manifest.Name, manifest.Version, true), AgentJson.Http.Info<InstallAnswer>(), statusCode: 202);
        }
        catch (BundleRejectedException ex)
        {
            return Error(ex.Reason is RejectionReason.TooLarge ? 413 : ex.Reason is RejectionReason.InsufficientDisk or RejectionReason.DiskBudget ? 507 : 400, "rejected: " + ex.Describe());
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            return Error(413, $"the bundle is larger than the {SideloadInstaller.MaxUploadBytes / 1048576} MiB this agent accepts");
        }
        catch (IOException ex)
        {
            return Error(507, $"io-error: {ex.Message}");
        }
    }

    private static async Task<IResult> InferAsync(HttpContext context, string name, InferenceRunner runner, ModelCatalog catalog, DeploymentStore deployments, ModelAdmission admission, IOptions<AgentOptions> options)
    {
        if (!catalog.Contains(name))
        {
            // Known to this device but not serving yet (being deployed, or its reload failed): 503, try again later.
            if (deployments.Get(name) is { } record)
            {
                context.Response.Headers.RetryAfter = "5";
                return Error(503, $"model '{name}' is not ready ({record.State}{(record.TargetVersion is { } v ? " " + v : string.Empty)})");
            }

            return Error(404, $"model '{name}' is not loaded on this device");
        }

        using var turn = await admission.EnterAsync(name, context.RequestAborted);
        if (turn is null)
        {
            context.Response.Headers.RetryAfter = "1";
            return Error(429, $"model '{name}' is saturated (Serving:MaxConcurrentRequests running, Serving:MaxQueuedRequests waiting); retry after 1 s");
        }

        var limit = options.Value.MaxRequestBytes;
        if (context.Request.ContentLength > limit)
        {
            return Error(413, $"request body is {context.Request.ContentLength} bytes, more than the {limit} this agent accepts");
        }

        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = limit;
        }

        if (context.Request.Headers.ContentEncoding is { Count: > 0 } encoding && !string.Equals(encoding.ToString(), "identity", StringComparison.OrdinalIgnoreCase))
        {
            return Error(415, $"Content-Encoding '{encoding}' is not supported; send the body uncompressed");
        }

        byte[] body;
        int length;
        try
        {
            (body, length) = await ReadBodyAsync(context.Request, limit, context.RequestAborted);
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == 413)
        {
            return Error(413, $"request body is larger than the {limit} bytes this agent accepts");
        }

        try
        {
            // Triton's binary tensor extension: the first N bytes are the JSON request, the rest the inputs' binary data.
            var jsonLength = length;
            var binaryRequest = context.Request.Headers.TryGetValue(InferenceHeaderContentLength, out var header);
            if (binaryRequest && (!int.TryParse(header, NumberStyles.None, CultureInfo.InvariantCulture, out jsonLength) || jsonLength > length))
            {
                return Error(400, $"{InferenceHeaderContentLength} '{header}' is not a byte count within the {length}-byte body");
            }

            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(body.AsMemory(0, jsonLength));
            }
            catch (JsonException ex)
            {
                return Error(400, $"request {(binaryRequest ? "JSON header" : "body")} is not valid JSON ({ex.Message})");
            }

            var json = new ArrayBufferWriter<byte>(4096);
            var binary = new ArrayBufferWriter<byte>();
            using (document)
            {
                try
                {
                    using var writer = new Utf8JsonWriter(json);
                    runner.Infer(name, document.RootElement, body.AsSpan(jsonLength, length - jsonLength), writer, binary);
                }
                catch (InferenceException ex)
                {
                    return Error(ex.StatusCode, ex.Message);
                }
                catch (OutOfMemoryException)
                {
                    return Error(503, "the agent is out of memory for this request; retry later or send a smaller batch");
                }
            }

            var response = context.Response;
            response.StatusCode = 200;
            response.ContentLength = json.WrittenCount + binary.WrittenCount;
            if (binary.WrittenCount > 0 || binaryRequest)
            {
                response.Headers[InferenceHeaderContentLength] = json.WrittenCount.ToString(CultureInfo.InvariantCulture);
            }

            response.ContentType = binary.WrittenCount > 0 ? "application/octet-stream" : "application/json";
            await response.Body.WriteAsync(json.WrittenMemory, context.RequestAborted);
            if (binary.WrittenCount > 0)
            {
                await response.Body.WriteAsync(binary.WrittenMemory, context.RequestAborted);
            }

            return Results.Empty;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    /// <summary>Reads the whole request body into a pooled buffer (return it to <see cref="ArrayPool{T}.Shared"/>).</summary>
    private static async Task<(byte[] Buffer, int Length)> ReadBodyAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(request.ContentLength ?? 16 * 1024, 1, limit));
        var length = 0;
        try
        {
            while (true)
            {
                if (length > limit)
                {
                    // Kestrel enforces the limit too; this covers servers that do not.
                    throw new BadHttpRequestException("request body too large", 413);
                }

                if (length == buffer.Length)
                {
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min((long)length * 2, (long)limit + 1));
                    buffer.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                var read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static CaptureStatus CaptureStatus(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<CaptureOptions>>().Value;
        var store = services.GetRequiredService<CaptureStore>();
        var recorder = services.GetRequiredService<CaptureRecorder>();
        return new CaptureStatus(options.Enabled, store.Count, store.Bytes, store.Dropped, recorder.Captured, recorder.Skipped);
    }

    /// <summary>The <c>/v1/status</c> document (also in a support bundle).</summary>
    internal static AgentStatus Status(IServiceProvider services)
    {
        var agent = services.GetRequiredService<IOptions<AgentOptions>>().Value;
        var mqtt = services.GetRequiredService<MqttSession>();
        var store = services.GetRequiredService<DeploymentStore>();
        var desired = services.GetRequiredService<DesiredStateInbox>();
        var meter = services.GetRequiredService<InferenceMeter>();
        var outbox = services.GetRequiredService<Outbox>();
        var slo = services.GetRequiredService<IOptions<ServingOptions>>().Value.LatencySloMilliseconds;
        return new AgentStatus(
            agent.DeviceId,
            AgentInfo.Version,
            agent.Architecture,
            agent.StateDirectory,
            new BrokerStatus(mqtt.Broker, mqtt.IsConnected, mqtt.Reconnects, mqtt.SessionSeq),
            mqtt.TlsStatus(),
            desired.Current.Models,
            desired.LastError,
            agent.Groups,
            services.GetRequiredService<ModelCatalog>().Active.OrderBy(m => m.Name, StringComparer.Ordinal)
                .Select(m => new ServingStatus(
                    m.Name,
                    m.Version,
                    m.ExecutionProvider,
                    m.ProviderFallback,
                    m.WarmupMilliseconds is { } w ? Math.Round(w, 3) : null,
                    slo > 0 ? slo : null)),
            desired.Local.Models,
            ModelStateReport.Of(store, services.GetRequiredService<DeploymentProgress>(), meter.Totals(), desired, agent.MaxAttempts),
            outbox.Status(),
            services.GetRequiredService<GpioPort>().Status(),
            CaptureStatus(services),
            services.GetRequiredService<DriftMonitor>().Status(),
            services.GetRequiredService<ReconcileWatchdog>().Status());
    }
}
