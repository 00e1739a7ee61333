using System.Text;
using System.Text.Json;
using EdgeAgent.Fleet.Mqtt;

namespace EdgeAgent.Fleet.Tests.Rollouts;

public sealed class DesiredEntryTests
{
    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();

    [Fact]
    public void The_rollout_entry_replaces_the_models_entry_and_keeps_the_rest()
    {
        var current = Json("""{"models":[{"name":"vibration","version":"1.0.0"},{"name":"audio","version":"2.0.0","activateAfter":"2026-11-27T02:00:00Z"}]}""");
        var bytes = DesiredStateWriter.WithEntry(current, "vibration", Json("""{"name":"vibration","version":"1.1.0","probationSeconds":60}"""));
        Assert.Equal("""{"models":[{"name":"audio","version":"2.0.0","activateAfter":"2026-11-27T02:00:00Z"},{"name":"vibration","version":"1.1.0","probationSeconds":60}]}""", Encoding.UTF8.GetString(bytes!));
    }

    [Fact]
    public void Restoring_puts_the_previous_entry_back_or_removes_the_model_or_clears_the_topic()
    {
        var now = Json("""{"models":[{"name":"vibration","version":"1.1.0"}]}""");
        var previousDoc = Json("""{"models":[{"name":"vibration","version":"1.0.0"}]}""");
        Assert.Equal("""{"models":[{"name":"vibration","version":"1.0.0"}]}""", Encoding.UTF8.GetString(DesiredStateWriter.WithEntry(now, "vibration", DesiredStateWriter.EntryOf(previousDoc, "vibration"))!));
        // No document before the rollout: the retained topic is cleared (null), as it was.
        Assert.Null(DesiredStateWriter.WithEntry(now, "vibration", null, clearWhenEmpty: true));
        // A document without the model before: the model is removed, the document stays.
        Assert.Equal("""{"models":[]}""", Encoding.UTF8.GetString(DesiredStateWriter.WithEntry(now, "vibration", null)!));
    }

    [Fact]
    public void An_entry_that_makes_the_document_invalid_is_refused() =>
        Assert.Throws<ArgumentException>(() => DesiredStateWriter.WithEntry(null, "vibration", Json("""{"name":"vibration","version":"1.1"}""")));
}
