using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeAgent.Core;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>The dashboard API's JSON: <see cref="CoreJson.Options"/> (camelCase, enums as strings), but null fields are written as <c>null</c>.</summary>
internal static class DashboardJson
{
    public static readonly JsonSerializerOptions Options = new(CoreJson.Options) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public static byte[] Bytes<T>(T value) => JsonSerializer.SerializeToUtf8Bytes(value, Options);
}
