using System.Diagnostics.CodeAnalysis;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using EdgeAgent.Core.Desired;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Core;

/// <summary>JSON settings for every payload the project writes: camelCase, enums as strings, compact.</summary>
/// <remarks>
/// The type information comes from source generation (<see cref="CoreJsonContext"/>, and the agent's own context chained
/// in front of it by <see cref="WithResolver"/>), so the native-AOT agent needs no reflection. Where reflection is
/// allowed (the JIT-compiled CLI, tests, tools: <see cref="JsonSerializer.IsReflectionEnabledByDefault"/>), types the
/// contexts do not know (anonymous ones, say) fall back to the reflection-based resolver.
/// </remarks>
public static class CoreJson
{
    /// <summary>
    /// Enums as camelCase strings. One generic converter per enum type that appears in a payload (the non-generic
    /// <see cref="JsonStringEnumConverter"/> needs run-time code generation); a test checks that none is missing.
    /// </summary>
    public static IReadOnlyList<JsonConverter> EnumConverters { get; } =
    [
        new JsonStringEnumConverter<DriftStatistic>(JsonNamingPolicy.CamelCase),
        new JsonStringEnumConverter<DriftState>(JsonNamingPolicy.CamelCase),
        new JsonStringEnumConverter<ProbationOutcome>(JsonNamingPolicy.CamelCase),
    ];

    public static readonly JsonSerializerOptions Options = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web), CoreJsonContext.Default);

    /// <summary>
    /// Why the reflection-based resolver and the non-generic enum converter are not a trimming or AOT hazard: they are only added when
    /// <see cref="JsonSerializer.IsReflectionEnabledByDefault"/> is true. That property is a feature switch which the SDK
    /// sets to false for trimmed and native-AOT apps (the agent's AOT publish), where the compiler replaces it with the
    /// constant and removes the branch, so the resolver is never reached there. (A <c>FeatureGuard</c> cannot express
    /// this: the analyzer only accepts guards it can prove, and no framework property guards RequiresUnreferencedCode.)
    /// </summary>
    private const string ReflectionJustification = "Only reached when JsonSerializer.IsReflectionEnabledByDefault (a feature switch, false and removed in trimmed/AOT apps).";

    public static readonly JsonSerializerOptions Indented = new(Options) { WriteIndented = true };

    /// <summary>
    /// A copy of <see cref="Options"/> (same naming, null handling, encoder and enum converters, so the same JSON) whose
    /// type information comes first from <paramref name="resolver"/>, then from <see cref="CoreJsonContext"/>.
    /// </summary>
    public static JsonSerializerOptions WithResolver(IJsonTypeInfoResolver resolver, bool indented = false)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = indented };
        return Configure(options, JsonTypeInfoResolver.Combine(resolver, CoreJsonContext.Default));
    }

    /// <summary>The source-generated (or, where allowed, reflection-based) type information of <typeparamref name="T"/> in <paramref name="options"/>.</summary>
    public static JsonTypeInfo<T> Info<T>(this JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (JsonTypeInfo<T>)options.GetTypeInfo(typeof(T));
    }

    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = ReflectionJustification)]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = ReflectionJustification)]
    private static JsonSerializerOptions Configure(JsonSerializerOptions options, IJsonTypeInfoResolver resolver)
    {
        options.DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull;
        options.Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping;
        foreach (var converter in EnumConverters)
        {
            options.Converters.Add(converter);
        }

        if (JsonSerializer.IsReflectionEnabledByDefault)
        {
            // Under the JIT (the CLI, the fleet tools, tests): enums the list does not name, and types the contexts do
            // not know, as before: by the run-time enum converter and the reflection-based resolver.
            options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
            options.TypeInfoResolver = JsonTypeInfoResolver.Combine(resolver, new DefaultJsonTypeInfoResolver());
        }
        else
        {
            options.TypeInfoResolver = resolver;
        }

        return options;
    }
}

/// <summary>Source-generated type information for the payloads of EdgeAgent.Core (signed manifests and roots, desired state).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(DsseEnvelope))]
[JsonSerializable(typeof(BundleManifest))]
[JsonSerializable(typeof(TrustRootDocument))]
[JsonSerializable(typeof(DesiredState))]
public sealed partial class CoreJsonContext : JsonSerializerContext;
