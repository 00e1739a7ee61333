using System.Net;
using System.Text;
using EdgeAgent.Core.Mqtt;
using EdgeAgent.Fleet.Mqtt;
using EdgeAgent.Fleet.Rollouts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// The dashboard's HTTP side on Kestrel: the embedded web app (SPA fallback to index.html), the JSON API over
/// <see cref="DashboardState"/>, the SSE stream, and rollout control (with <c>--operator</c>) through <see cref="RolloutControl"/>.
/// </summary>
internal sealed class DashboardServer : IAsyncDisposable
{
    /// <summary>Events one stream client may fall behind before its queue is dropped for a fresh <c>snapshot</c>.</summary>
    public const int StreamQueueCapacity = 1024;

    public const string ConfirmHeader = "X-EdgeAgent-Confirm";

    public static readonly TimeSpan PingEvery = TimeSpan.FromSeconds(15);

    private static readonly byte[] Ping = ": ping\n\n"u8.ToArray();
    private static readonly Lazy<StaticAssets> Assets = new(() => StaticAssets.Load(typeof(DashboardServer).Assembly));

    private readonly DashboardState _state;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly string _writer = RolloutDriver.NewWriter();
    private readonly SemaphoreSlim _control = new(1, 1);
    private readonly CancellationTokenSource _stopping = new();
    private readonly WebApplication _app;

    private DashboardServer(WebApplication app, DashboardState state, TimeProvider time, ILogger logger, bool loopbackOnly)
    {
        _app = app;
        _state = state;
        _time = time;
        _logger = logger;
        if (loopbackOnly)
        {
            app.Use(LoopbackHostOnlyAsync);
        }

        app.MapGet("/api/info", context => WriteJsonAsync(context, StatusCodes.Status200OK, DashboardJson.Bytes(_state.Info)));
        app.MapGet("/api/snapshot", context => WriteJsonAsync(context, StatusCodes.Status200OK, _state.Snapshot()));
        app.MapGet("/api/devices/{id}", DeviceAsync);
        app.MapGet("/api/stream", StreamAsync);
        app.MapPost("/api/rollouts/{id}/{operation}", ControlAsync);
        app.MapFallback("{**path}", FallbackAsync);
    }

    /// <summary>Where the server listens, e.g. <c>http://127.0.0.1:8080/</c>.</summary>
    public Uri Url { get; private set; } = new("http://127.0.0.1/");

    /// <exception cref="IOException">the endpoint cannot be bound (in use, no such address, not allowed).</exception>
    public static async Task<DashboardServer> StartAsync(DashboardState state, IPEndPoint listen, ILoggerFactory? loggerFactory, TimeProvider time, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(listen);
        // The empty builder: no configuration sources (no ASPNETCORE_URLS, appsettings.json or environment overrides:
        // only --listen binds), no logging providers but the caller's.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = "edgectl-dashboard",
            ContentRootPath = AppContext.BaseDirectory,
        });
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        builder.Services.AddLogging();
        if (loggerFactory is not null)
        {
            builder.Logging.AddProvider(new ForwardingLoggerProvider(loggerFactory));
        }

        builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
        // A failed start (e.g. the port in use) is logged by the host and also thrown; the caller reports it once.
        builder.Logging.AddFilter("Microsoft.Extensions.Hosting.Internal.Host", LogLevel.Critical);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(2));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Listen(listen);
        });
        var app = builder.Build();
        var server = new DashboardServer(app, state, time, (loggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("EdgeAgent.Cli.Dashboard"), IPAddress.IsLoopback(listen.Address));
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            await app.DisposeAsync();
            var reason = IsAddressInUse(ex)
                ? "address already in use"
                : ex.GetBaseException().Message;
            throw new IOException($"cannot listen on {Format(listen)}: {reason}", ex);
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        server.Url = new Uri(address is null ? $"http://{Format(listen)}/" : address.TrimEnd('/') + "/");
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
        _stopping.Dispose();
        _control.Dispose();
    }

    /// <summary>Whether <paramref name="ex"/> (or the exception it wraps) says the endpoint is taken by another socket.</summary>
    internal static bool IsAddressInUse(Exception ex) =>
        ex is Microsoft.AspNetCore.Connections.AddressInUseException
        || ex.InnerException is Microsoft.AspNetCore.Connections.AddressInUseException
        || ex.GetBaseException() is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse };

    private static string Format(IPEndPoint endpoint) => endpoint.ToString();

    /// <summary>
    /// On a loopback address only requests for a loopback host name are served: a web page elsewhere that points its
    /// own host name at 127.0.0.1 (DNS rebinding) would otherwise read the API, and send the confirm header, as same-origin.
    /// </summary>
    private static async Task LoopbackHostOnlyAsync(HttpContext context, RequestDelegate next)
    {
        var host = context.Request.Host.Host;
        if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase) || (IPAddress.TryParse(host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address)))
        {
            await next(context);
            return;
        }

        await ErrorAsync(context, StatusCodes.Status421MisdirectedRequest, $"this dashboard listens on a loopback address and answers only for localhost or a loopback IP, not for host '{host}'");
    }

    private static async Task WriteJsonAsync(HttpContext context, int status, byte[] body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    private static Task ErrorAsync(HttpContext context, int status, string error) =>
        WriteJsonAsync(context, status, DashboardJson.Bytes(new { error }));

    private async Task DeviceAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var detail = await _state.DetailAsync(id, context.RequestAborted);
        await (detail is null
            ? ErrorAsync(context, StatusCodes.Status404NotFound, $"no device '{id}' seen on the broker")
            : WriteJsonAsync(context, StatusCodes.Status200OK, DashboardJson.Bytes(detail)));
    }

    /// <summary>
    /// <c>GET /api/stream</c>: a <c>snapshot</c> event, then every change. Each client has a bounded queue; one that
    /// falls <see cref="StreamQueueCapacity"/> events behind (a slow or sleeping browser) loses its queue and gets a fresh
    /// <c>snapshot</c> instead, so memory stays bounded whatever the clients do.
    /// </summary>
    private async Task StreamAsync(HttpContext context)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        var queue = new StreamQueue(StreamQueueCapacity);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _stopping.Token);
        using var subscription = _state.Subscribe(queue.Post, out var snapshot);
        try
        {
            await WriteEventAsync(response, "snapshot", snapshot, stop.Token);
            await response.Body.FlushAsync(stop.Token);
            while (!stop.IsCancellationRequested)
            {
                using (var ping = CancellationTokenSource.CreateLinkedTokenSource(stop.Token))
                {
                    ping.CancelAfter(PingEvery);
                    try
                    {
                        await queue.WaitAsync(ping.Token);
                    }
                    catch (OperationCanceledException) when (!stop.IsCancellationRequested)
                    {
                        await response.Body.WriteAsync(Ping, stop.Token);
                        await response.Body.FlushAsync(stop.Token);
                        continue;
                    }
                }

                if (queue.TakeOverflow())
                {
                    DashboardLog.StreamOverflow(_logger, StreamQueueCapacity);
                    await WriteEventAsync(response, "snapshot", _state.Snapshot(), stop.Token);
                }

                while (queue.TryRead(out var e))
                {
                    await WriteEventAsync(response, e.Name, e.Data, stop.Token);
                }

                await response.Body.FlushAsync(stop.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException)
        {
            // The browser went away, or the dashboard stops.
        }
    }

    private static async Task WriteEventAsync(HttpResponse response, string name, byte[] data, CancellationToken cancellationToken)
    {
        await response.Body.WriteAsync(Encoding.UTF8.GetBytes($"event: {name}\ndata: "), cancellationToken);
        await response.Body.WriteAsync(data, cancellationToken);
        await response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
    }

    /// <summary><c>POST /api/rollouts/{id}/pause|resume|abort</c>: what <c>edgectl rollout pause|resume|abort</c> do.</summary>
    private async Task ControlAsync(HttpContext context)
    {
        var id = context.Request.RouteValues["id"] as string ?? string.Empty;
        var operation = context.Request.RouteValues["operation"] as string ?? string.Empty;
        if (operation is not ("pause" or "resume" or "abort"))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, $"no API endpoint POST {context.Request.Path}");
            return;
        }

        if (_state.ReadOnly)
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, "read-only dashboard: start it with --operator to control rollouts");
            return;
        }

        if (!string.Equals(context.Request.Headers[ConfirmHeader], "yes", StringComparison.Ordinal))
        {
            await ErrorAsync(context, StatusCodes.Status400BadRequest, $"a rollout {operation} needs the header '{ConfirmHeader}: yes' (the page sends it once you confirm)");
            return;
        }

        // A browser names the page a request comes from: only this dashboard's own page may control rollouts.
        if (context.Request.Headers.Origin is { Count: > 0 } origin
            && !(Uri.TryCreate(origin.ToString(), UriKind.Absolute, out var from) && string.Equals(from.Authority, context.Request.Host.Value, StringComparison.OrdinalIgnoreCase)))
        {
            await ErrorAsync(context, StatusCodes.Status403Forbidden, $"a rollout {operation} is accepted only from this dashboard's own page, not from {origin}");
            return;
        }

        var known = DeviceIds.IsValid(id) ? _state.Rollout(id) : null;
        if (known is null)
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, $"no rollout '{id}'");
            return;
        }

        if (_state.Connection is not { } connection)
        {
            await ErrorAsync(context, StatusCodes.Status503ServiceUnavailable, "not connected to the broker; try again once the dashboard has reconnected");
            return;
        }

        // Not the request's token: an abort half done because the page was closed would leave devices not written back.
        var cancellationToken = _stopping.Token;
        await _control.WaitAsync(cancellationToken);
        try
        {
            RolloutDocument doc;
            switch (operation)
            {
                case "pause":
                    doc = await RolloutControl.PauseAsync(connection, id, _writer, _time, cancellationToken);
                    break;
                case "resume":
                    if (!known.IsFinal && _state.DriverOf(id) is null && await RolloutDriver.DriverOfAsync(connection, id, cancellationToken: cancellationToken) is null)
                    {
                        await ErrorAsync(context, StatusCodes.Status409Conflict, $"rollout '{id}' has no live driver (the edgectl that drove it has ended); run 'edgectl rollout resume {id}' to drive it from a terminal");
                        return;
                    }

                    doc = await RolloutControl.ResumeAsync(connection, id, _writer, _time, cancellationToken);
                    break;
                default:
                    doc = await RolloutControl.AbortAsync(connection, id, rollbackSucceeded: false, _writer, _time, progress: null, cancellationToken);
                    break;
            }

            DashboardLog.Control(_logger, id, operation, doc.State);
            await WriteJsonAsync(context, StatusCodes.Status200OK, DashboardJson.Bytes(_state.RolloutJson(id, doc)));
        }
        catch (ArgumentException ex)
        {
            DashboardLog.Control(_logger, id, operation, ex.Message);
            await ErrorAsync(context, ex.Message.StartsWith("no rollout", StringComparison.Ordinal) ? StatusCodes.Status404NotFound : StatusCodes.Status409Conflict, ex.Message);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or MQTTnet.Exceptions.MqttCommunicationException)
        {
            DashboardLog.Control(_logger, id, operation, ex.Message);
            await ErrorAsync(context, StatusCodes.Status502BadGateway, ex.Message);
        }
        finally
        {
            _control.Release();
        }
    }

    /// <summary>Unknown <c>/api/...</c>: 404 JSON. Otherwise an embedded file, or index.html for the page's own routes (SPA fallback).</summary>
    private async Task FallbackAsync(HttpContext context)
    {
        var path = context.Request.Path.Value ?? "/";
        if (path == "/api" || path.StartsWith("/api/", StringComparison.Ordinal))
        {
            await ErrorAsync(context, StatusCodes.Status404NotFound, $"no API endpoint {context.Request.Method} {path}");
            return;
        }

        if (!HttpMethods.IsGet(context.Request.Method) && !HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            return;
        }

        var file = path.TrimStart('/');
        if (file.Length > 0 && await Assets.Value.TryServeAsync(context, file))
        {
            return;
        }

        if (file.StartsWith("assets/", StringComparison.Ordinal) || !await Assets.Value.TryServeAsync(context, "index.html"))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
        }
    }
}
