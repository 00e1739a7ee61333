using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace EdgeAgent.Cli;

/// <summary>HTTP over the agent's unix socket (the local API).</summary>
public sealed class AgentApiClient : IDisposable
{
    public const string DefaultSocket = "/run/edge-agent/api.sock";

    private readonly HttpClient _http;

    public AgentApiClient(string socketPath, TimeSpan? timeout = null)
    {
        SocketPath = socketPath;
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                try
                {
                    await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost"), Timeout = timeout ?? TimeSpan.FromSeconds(30) };
    }

    public string SocketPath { get; }

    public async Task<JsonDocument> GetJsonAsync(string path, CancellationToken cancellationToken = default)
    {
        var (status, body) = await SendAsync(HttpMethod.Get, path, null, cancellationToken);
        if (status != 200)
        {
            throw new IOException($"agent answered {status} to GET {path}: {ErrorText(body)}");
        }

        return JsonDocument.Parse(body);
    }

    public async Task<(int Status, string Body)> SendAsync(HttpMethod method, string path, byte[]? content, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path);
        if (content is not null)
        {
            request.Content = new ByteArrayContent(content);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        return await SendAsync(request, cancellationToken);
    }

    /// <summary>GETs a binary document: the status, the body, and the file name of its <c>Content-Disposition</c> (if any).</summary>
    public async Task<(int Status, byte[] Body, string? FileName)> GetBytesAsync(string path, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsByteArrayAsync(cancellationToken);
            var name = response.Content.Headers.ContentDisposition?.FileNameStar ?? response.Content.Headers.ContentDisposition?.FileName?.Trim('"');
            return ((int)response.StatusCode, body, name);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentUnreachableException($"the agent at {SocketPath} did not answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }
    }

    /// <summary>POSTs a file as the body, streamed (a bundle can be large).</summary>
    public async Task<(int Status, string Body)> PostFileAsync(string path, string file, string contentType, CancellationToken cancellationToken = default)
    {
        await using var stream = File.OpenRead(file);
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StreamContent(stream, 1 << 16) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Content.Headers.ContentLength = stream.Length;
        return await SendAsync(request, cancellationToken);
    }

    private async Task<(int Status, string Body)> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _http.SendAsync(request, cancellationToken);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex);
        }
        catch (TaskCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AgentUnreachableException($"the agent at {SocketPath} did not answer within {_http.Timeout.TotalSeconds:0} s", ex);
        }
    }

    private AgentUnreachableException Unreachable(HttpRequestException ex)
    {
        var why = File.Exists(SocketPath) ? ex.GetBaseException().Message : "no socket there";
        return new AgentUnreachableException($"cannot reach the agent at {SocketPath}: {why} (is edge-agent running? its socket is Agent:ApiSocket; pass --socket PATH)", ex);
    }

    public static string ErrorText(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.TryGetProperty("error", out var e) ? e.GetString() ?? body : body;
        }
        catch (JsonException)
        {
            return body;
        }
    }

    public void Dispose() => _http.Dispose();
}
