using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EdgeAgent.Core;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Telemetry;

namespace EdgeAgent.Agent.Json;

/// <summary>
/// The agent's JSON settings. <see cref="Options"/> and <see cref="Indented"/> write exactly what <see cref="CoreJson.Options"/>
/// and <see cref="CoreJson.Indented"/> write (they are copies of them), with the type information of every payload, state
/// file and API answer of the agent from <see cref="AgentJsonContext"/> (source generation: no reflection, so the agent
/// also runs as a native-AOT binary). <see cref="Http"/> is what ASP.NET Core writes for <c>Results.Json</c> without
/// options (its defaults: camelCase, nulls written, the default encoder); the API used it for a few answers, which keep it.
/// </summary>
public static class AgentJson
{
    public static readonly JsonSerializerOptions Options = CoreJson.WithResolver(AgentJsonContext.Default);

    public static readonly JsonSerializerOptions Indented = CoreJson.WithResolver(AgentJsonContext.Default, indented: true);

    public static readonly JsonSerializerOptions Http = new(JsonSerializerDefaults.Web) { TypeInfoResolver = AgentJsonContext.Default };

    /// <summary>Type information for <typeparamref name="T"/> with <see cref="Options"/>.</summary>
    public static JsonTypeInfo<T> Info<T>() => Options.Info<T>();
}

/// <summary>Every type the agent serializes or reads with <see cref="AgentJson"/> (the Core types come from <see cref="CoreJsonContext"/>).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
// Local API
[JsonSerializable(typeof(LiveAnswer))]
[JsonSerializable(typeof(ReadyAnswer))]
[JsonSerializable(typeof(ServerMetadata))]
[JsonSerializable(typeof(ModelMetadata))]
[JsonSerializable(typeof(ModelReadyAnswer))]
[JsonSerializable(typeof(AgentStatus))]
[JsonSerializable(typeof(GpioAnswer))]
[JsonSerializable(typeof(MetricsAnswer))]
[JsonSerializable(typeof(CaptureSamplesAnswer))]
[JsonSerializable(typeof(CaptureDeleteAnswer))]
[JsonSerializable(typeof(PinAnswer))]
[JsonSerializable(typeof(InstallAnswer))]
[JsonSerializable(typeof(IEnumerable<ModelSummary>))]
[JsonSerializable(typeof(ErrorAnswer))]
// MQTT payloads
[JsonSerializable(typeof(StatusPayload))]
[JsonSerializable(typeof(BirthPayload))]
[JsonSerializable(typeof(HealthSnapshot))]
[JsonSerializable(typeof(ReportedDocument))]
[JsonSerializable(typeof(TrustRootEvent))]
[JsonSerializable(typeof(RejectedEvent))]
[JsonSerializable(typeof(DeploymentEvent))]
[JsonSerializable(typeof(DriftRecord))]
[JsonSerializable(typeof(MetricsRecord))]
[JsonSerializable(typeof(JsonObject))]
// Remote command answers
[JsonSerializable(typeof(CaptureExportAnswer))]
[JsonSerializable(typeof(ReportNowAnswer))]
[JsonSerializable(typeof(SupportBundleAnswer))]
// Support bundle
[JsonSerializable(typeof(SortedDictionary<string, string>))]
[JsonSerializable(typeof(VersionsReport))]
// State files
[JsonSerializable(typeof(IEnumerable<ModelRecord>))]
[JsonSerializable(typeof(List<ModelRecord>))]
[JsonSerializable(typeof(Dictionary<string, AcceptedVersion>))]
public sealed partial class AgentJsonContext : JsonSerializerContext;
