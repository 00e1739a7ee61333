using System.Text.Json;
using EdgeAgent.Core.Drift;

namespace EdgeAgent.Cli.Dashboard;

/// <summary><c>GET /api/devices/{id}</c>: the row, the bounded histories, and the drift baselines of the device's model versions (<c>name@version</c>).</summary>
internal sealed record DeviceDetail(
    DeviceRow Row,
    IReadOnlyList<HealthPoint> Health,
    IReadOnlyList<DriftWindow> Drift,
    IReadOnlyList<JsonElement> Events,
    IReadOnlyDictionary<string, DriftBaseline> Baselines);
