using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>A plain HTTP client over the agent's unix socket, as an app on the device would use it.</summary>
public sealed class UnixSocketApi : IDisposable
{
    private readonly HttpClient _http;

    public UnixSocketApi(string socketPath)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, ct) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), ct);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        _http = new HttpClient(handler) { BaseAddress = new Uri("http://localhost") };
    }

    public async Task<(int Status, JsonDocument Body)> GetAsync(string path)
    {
        using var response = await _http.GetAsync(path, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
    }

    public async Task<(int Status, JsonDocument Body)> PostAsync(string path, string json)
    {
        using var content = new StringContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(path, content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)));
    }

    /// <summary>As <see cref="PostAsync"/>, with the <c>Retry-After</c> header (seconds) when the answer has one.</summary>
    public async Task<(int Status, JsonDocument Body, TimeSpan? RetryAfter)> PostWithHeadersAsync(string path, string json)
    {
        using var content = new StringContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await _http.PostAsync(path, content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)), response.Headers.RetryAfter?.Delta);
    }

    /// <summary>Sends any request (custom headers, binary bodies); the caller reads and disposes the response.</summary>
    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request, TestContext.Current.CancellationToken);

    public void Dispose() => _http.Dispose();
}
