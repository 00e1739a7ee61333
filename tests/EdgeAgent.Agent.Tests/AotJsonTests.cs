using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EdgeAgent.Agent.Json;
using EdgeAgent.Core;

namespace EdgeAgent.Agent.Tests;

/// <summary>
/// The native-AOT agent serializes only with source-generated type information (issue 9). These checks run in the JIT
/// test run and keep the generated side complete: enums written as strings, and the same JSON as reflection writes.
/// </summary>
public sealed class AotJsonTests
{
    private static readonly JsonSerializerOptions Reflection = new(CoreJson.Options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    private static readonly JsonSerializerOptions HttpReflection = new(JsonSerializerDefaults.Web);

    /// <summary>
    /// The AOT build cannot use the non-generic JsonStringEnumConverter, so CoreJson lists one converter per enum type; an
    /// enum missing from that list would be written as a number by the AOT agent only.
    /// </summary>
    [Fact]
    public void Every_enum_in_a_payload_has_a_string_converter()
    {
        var converted = CoreJson.EnumConverters.Select(c => c.GetType().GetGenericArguments()[0]).ToHashSet();
        var enums = new HashSet<Type>();
        var seen = new HashSet<Type>();
        foreach (var root in Registered(typeof(AgentJsonContext)).Concat(Registered(typeof(CoreJsonContext))))
        {
            Walk(root, seen, enums);
        }

        Assert.NotEmpty(seen);
        Assert.Empty(enums.Where(e => !converted.Contains(e)).Select(e => e.FullName));
    }

    [Fact]
    public void Agent_options_write_what_the_reflection_based_core_options_write()
    {
        var status = new AgentStatus(
            "dev-1",
            "1.2.3",
            "x64",
            "/var/lib/edge-agent",
            new BrokerStatus("mqtt://broker:1883", true, 2, 7),
            new BrokerTlsStatus(null, DateTimeOffset.UnixEpoch, 12, new ServerCertificateStatus("CN=broker", null, false, "it's expired")),
            [],
            null,
            ["line-a"],
            [new ServingStatus("m", "1.0.0", "CPU", null, 1.25, null)],
            [],
            [],
            new Telemetry.OutboxStatus(1, 2, 3, new Telemetry.OutboxDrops(0, 1, 2, 3), 4, 5),
            new GpioStatus(true, false, true, null),
            new CaptureStatus(true, 1, 2, 3, 4, 5),
            [new DriftModelStatus("m", "1.0.0", "ok", DateTimeOffset.UnixEpoch, new DriftLastWindow("drift", 10, DateTimeOffset.UnixEpoch))],
            new WatchdogStatus("ok", 0.5, 60));
        Assert.Equal(JsonSerializer.Serialize(status, Reflection), JsonSerializer.Serialize(status, AgentJson.Info<AgentStatus>()));
        Assert.Equal(
            JsonSerializer.Serialize(new ErrorAnswer("model 'x' is not loaded"), HttpReflection),
            JsonSerializer.Serialize(new ErrorAnswer("model 'x' is not loaded"), AgentJson.Http.Info<ErrorAnswer>()));
    }

    /// <summary>
    /// Source generation sets init-only properties through an object initializer, so a property left out of the JSON
    /// gets default(T), not its initializer (dotnet/runtime#84484); reflection keeps the initializer. Properties with
    /// initial values on types the agent reads therefore have setters, not init. Reading <c>{}</c> both ways finds any that does not.
    /// </summary>
    [Fact]
    public void Omitted_properties_keep_their_initial_values_as_with_reflection()
    {
        // What the agent reads: signed envelopes, manifests and roots, desired state, its state files.
        Type[] read = [typeof(Core.Bundles.DsseEnvelope), typeof(Core.Bundles.BundleManifest), typeof(Core.Bundles.TrustRootDocument), typeof(Core.Desired.DesiredState), typeof(List<Core.Deployment.ModelRecord>), typeof(Dictionary<string, Core.Bundles.AcceptedVersion>)];
        var seen = new HashSet<Type>();
        foreach (var root in read)
        {
            Walk(root, seen, []);
        }

        foreach (var type in seen.Where(t => t.Namespace?.StartsWith("EdgeAgent", StringComparison.Ordinal) == true && !t.IsEnum))
        {
            string expected;
            try
            {
                // Types that cannot be read from {} (required members) or written with defaults (a JsonElement) say nothing here.
                expected = JsonSerializer.Serialize(JsonSerializer.Deserialize("{}", type, Reflection), type, Reflection);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                continue;
            }

            var generated = JsonSerializer.Deserialize("{}", AgentJson.Options.GetTypeInfo(type));
            Assert.Equal(expected, JsonSerializer.Serialize(generated, AgentJson.Options.GetTypeInfo(type)));
        }
    }

    private static IEnumerable<Type> Registered(Type context) =>
        context.CustomAttributes.Where(a => a.AttributeType == typeof(JsonSerializableAttribute)).Select(a => (Type)a.ConstructorArguments[0].Value!);

    private static void Walk(Type type, HashSet<Type> seen, HashSet<Type> enums)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (!seen.Add(type) || type == typeof(string) || type.IsPrimitive || type.Namespace?.StartsWith("System.Text.Json", StringComparison.Ordinal) == true)
        {
            return;
        }

        if (type.IsEnum)
        {
            enums.Add(type);
            return;
        }

        if (type.IsArray)
        {
            Walk(type.GetElementType()!, seen, enums);
            return;
        }

        if (type.IsGenericType)
        {
            foreach (var argument in type.GetGenericArguments())
            {
                Walk(argument, seen, enums);
            }
        }

        if (type.Namespace?.StartsWith("EdgeAgent", StringComparison.Ordinal) != true)
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length == 0 && property.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            {
                Walk(property.PropertyType, seen, enums);
            }
        }
    }
}
