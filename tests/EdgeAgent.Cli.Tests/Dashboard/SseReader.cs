using System.Text;
using System.Text.Json;

namespace EdgeAgent.Cli.Tests.Dashboard;

/// <summary>Reads <c>text/event-stream</c> events (name and JSON data) from the dashboard's <c>/api/stream</c>, as a browser's EventSource would.</summary>
internal sealed class SseReader : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private SseReader(HttpResponseMessage response, Stream stream)
    {
        _response = response;
        _reader = new StreamReader(stream, Encoding.UTF8);
    }

    public static async Task<SseReader> OpenAsync(HttpClient http, Uri url)
    {
        var response = await http.GetAsync(new Uri(url, "api/stream"), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        response.EnsureSuccessStatusCode();
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return new SseReader(response, await response.Content.ReadAsStreamAsync(TestContext.Current.CancellationToken));
    }

    /// <summary>The next event that <paramref name="match"/> accepts (others are skipped); fails after <paramref name="timeout"/>.</summary>
    public async Task<JsonElement> NextAsync(string name, Func<JsonElement, bool>? match = null, TimeSpan? timeout = null)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(timeout ?? TimeSpan.FromSeconds(10));
        string? eventName = null;
        var data = new StringBuilder();
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(limit.Token) ?? throw new EndOfStreamException("the event stream ended");
                if (line.Length == 0)
                {
                    if (eventName == name && data.Length > 0)
                    {
                        using var doc = JsonDocument.Parse(data.ToString());
                        if (match is null || match(doc.RootElement))
                        {
                            return doc.RootElement.Clone();
                        }
                    }

                    eventName = null;
                    data.Clear();
                }
                else if (line.StartsWith("event: ", StringComparison.Ordinal))
                {
                    eventName = line["event: ".Length..];
                }
                else if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    data.Append(line["data: ".Length..]);
                }
            }
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no '{name}' event as expected within {(timeout ?? TimeSpan.FromSeconds(10)).TotalSeconds:0} s");
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
