using System.Text.Json;
using EdgeAgent.Agent.Commands;
using EdgeAgent.Agent.Diagnostics;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Tests;

/// <summary>The pure parts of the support bundle and the remote commands.</summary>
public sealed class DiagnosticsTests
{
    [Fact]
    public void Configuration_secrets_are_redacted_and_file_paths_kept()
    {
        var redacted = ConfigRedaction.Redact(new Dictionary<string, string?>
        {
            ["Agent:DeviceId"] = "dev-1",
            ["Mqtt:Url"] = "mqtt://user:hunter2@broker:1883",
            ["Mqtt:Username"] = "dev-1",
            ["Mqtt:Password"] = "hunter2",
            ["Mqtt:PasswordFile"] = "/run/credentials/edge-agent.service/mqtt-password",
            ["Trust:PublicKeys:0"] = "/etc/edge-agent/trust/release.pub.pem",
            ["Extra:ApiKey"] = "k-123",
            ["Extra:Client_Secret"] = "s-456",
            ["Extra:AccessToken"] = "t-789",
            ["Mqtt"] = null,
        });

        Assert.Equal("dev-1", redacted["Agent:DeviceId"]);
        Assert.Equal("mqtt://(redacted)@broker:1883", redacted["Mqtt:Url"]);
        Assert.Equal("dev-1", redacted["Mqtt:Username"]);
        Assert.Equal(ConfigRedaction.Redacted, redacted["Mqtt:Password"]);
        Assert.Equal("/run/credentials/edge-agent.service/mqtt-password", redacted["Mqtt:PasswordFile"]);
        Assert.Equal("/etc/edge-agent/trust/release.pub.pem", redacted["Trust:PublicKeys:0"]);
        Assert.Equal(ConfigRedaction.Redacted, redacted["Extra:ApiKey"]);
        Assert.Equal(ConfigRedaction.Redacted, redacted["Extra:Client_Secret"]);
        Assert.Equal(ConfigRedaction.Redacted, redacted["Extra:AccessToken"]);
        Assert.False(redacted.ContainsKey("Mqtt"), "sections without a value are not keys");
        Assert.DoesNotContain(redacted.Values, v => v.Contains("hunter2", StringComparison.Ordinal));
    }

    [Fact]
    public void Recent_log_lines_keep_the_last_lines_in_order_with_level_category_event_and_exception()
    {
        var ring = new RecentLogLines(TimeProvider.System, capacity: 3);
        var logger = ring.CreateLogger("EdgeAgent.Agent.Test");
        for (var i = 1; i <= 4; i++)
        {
            var message = $"line {i}";
            logger.Log(LogLevel.Information, new EventId(1000 + i), message, null, (s, _) => s);
        }

        logger.Log(LogLevel.Error, new EventId(4002), "broken", new InvalidOperationException("boom"), (s, _) => s);

        var lines = ring.Snapshot();
        Assert.Equal(5, ring.Written);
        Assert.Equal(3, lines.Count);
        Assert.EndsWith("info EdgeAgent.Agent.Test[1003] line 3", lines[0], StringComparison.Ordinal);
        Assert.EndsWith("line 4", lines[1], StringComparison.Ordinal);
        Assert.Contains("fail EdgeAgent.Agent.Test[4002] broken\nSystem.InvalidOperationException: boom", lines[2], StringComparison.Ordinal);

        var longLine = new string('x', RecentLogLines.MaxLineChars * 2);
        logger.Log(LogLevel.Warning, default, longLine, null, (s, _) => s);
        Assert.Equal(RecentLogLines.MaxLineChars, ring.Snapshot()[^1].Length);
    }

    [Fact]
    public void An_answer_is_ok_and_verb_then_the_fields_or_the_error()
    {
        using var ok = JsonDocument.Parse(RemoteCommandService.Answer("report-now", RemoteCommandResult.Ok(new { published = true, bytes = 12, ok = false, missing = (string?)null })));
        Assert.Equal("""{"ok":true,"verb":"report-now","published":true,"bytes":12}""", ok.RootElement.GetRawText());

        using var failed = JsonDocument.Parse(RemoteCommandService.Answer("reboot", RemoteCommandResult.Fail("unknown verb 'reboot'")));
        Assert.Equal("""{"ok":false,"verb":"reboot","error":"unknown verb 'reboot'"}""", failed.RootElement.GetRawText());

        Assert.Equal("""{"ok":true,"verb":"x"}""", System.Text.Encoding.UTF8.GetString(RemoteCommandService.Answer("x", RemoteCommandResult.Ok())));
    }

    [Theory]
    [InlineData("", "{}")]
    [InlineData("""{"model":"vibration","count":5}""", """{"model":"vibration","count":5}""")]
    public void Command_arguments_are_a_json_object_and_an_empty_payload_is_an_empty_one(string payload, string expected) =>
        Assert.Equal(expected, new RemoteCommandRequest("v", System.Text.Encoding.UTF8.GetBytes(payload)).Arguments().GetRawText());

    [Theory]
    [InlineData("[1,2]", "must be a JSON object")]
    [InlineData("{not json", "is not valid JSON")]
    public void Command_arguments_that_are_not_a_json_object_are_refused(string payload, string error)
    {
        var ex = Assert.Throws<ArgumentException>(() => new RemoteCommandRequest("v", System.Text.Encoding.UTF8.GetBytes(payload)).Arguments());
        Assert.Contains(error, ex.Message, StringComparison.Ordinal);
    }
}
