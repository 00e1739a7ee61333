using System.Globalization;
using System.Text;

namespace EdgeAgent.Cli.Tests.Dashboard;

/// <summary>Documents shaped as the agent publishes them (docs/mqtt-api.md), for a broker without agents.</summary>
internal static class AgentDocuments
{
    public static byte[] Birth(string id, long seq) =>
        Utf8($$"""{"state":"online","deviceId":"{{id}}","seq":{{seq}},"agentVersion":"0.1.0","architecture":"x64","timestamp":"{{Iso(DateTimeOffset.UtcNow)}}","models":[{"name":"vibration","version":"1.0.0"}]}""");

    public static byte[] Will(string id, long seq) => Utf8($$"""{"state":"offline","deviceId":"{{id}}","seq":{{seq}}}""");

    public static byte[] Reported(string id, string state = "Active", string version = "1.0.0", string? reason = null) =>
        Utf8($$"""{"deviceId":"{{id}}","agentVersion":"0.1.0","architecture":"x64","deviceType":"type-a","groups":["line-1"],"updated":"{{Iso(DateTimeOffset.UtcNow)}}","models":[{"name":"vibration","state":"{{state}}","version":"{{version}}","activeVersion":"1.0.0","attempts":1,"retained":[]{{(reason is null ? string.Empty : $",\"reason\":\"{reason}\"")}}}]}""");

    public static byte[] Health(string id, DateTimeOffset at, double interval = 2, long requests = 100, long session = 1) =>
        Utf8($$$"""{"deviceId":"{{{id}}}","timestamp":"{{{Iso(at)}}}","intervalSeconds":{{{interval.ToString(CultureInfo.InvariantCulture)}}},"agentVersion":"0.1.0","uptimeSeconds":12,"cpuPercent":3.5,"rssBytes":120000000,"models":[{"name":"vibration","version":"1.0.0","executionProvider":"CPU","requests":{{{requests}}},"errors":2,"ratePerSecond":49.5,"latencyMs":{"p50":0.2,"p95":0.25,"p99":0.3}}],"outbox":{"depth":3,"bytes":0,"maxBytes":16777216,"dropped":{"alert":0,"event":0,"drift":0,"metrics":0},"delivered":23,"lastSeq":23},"mqtt":{"reconnects":0,"session":{{{session}}}}}""");

    public static string DriftRecord(string id, long seq, string kind, string state, string previous, DateTimeOffset end, string feature0State) =>
        $$"""{"seq":{{seq}},"kind":"{{kind}}","deviceId":"{{id}}","model":"vibration","version":"1.0.0","windowStart":"{{Iso(end.AddSeconds(-60))}}","windowEnd":"{{Iso(end)}}","count":3120,"state":"{{state}}","previousState":"{{previous}}","features":[{"name":"features[0]","psi":0.61,"js":0.33,"ks":0.31,"state":"{{feature0State}}","counts":[10,20]},{"name":"features[1]","psi":0.02,"js":0.05,"ks":0.03,"state":"ok"}],"outputs":[{"name":"label","psi":0.04,"js":0.06,"ks":0.04,"state":"ok"}]}""";

    public static string Iso(DateTimeOffset at) => at.ToString("O", CultureInfo.InvariantCulture);

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
