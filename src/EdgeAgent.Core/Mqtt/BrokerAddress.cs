using System.Globalization;

namespace EdgeAgent.Core.Mqtt;

/// <summary>A broker URL such as <c>mqtt://127.0.0.1:1883</c> or <c>mqtts://broker.example:8883</c>.</summary>
public sealed record BrokerAddress(string Host, int Port, bool UseTls)
{
    public static bool TryParse(string? url, out BrokerAddress? address, out string error)
    {
        address = null;
        if (string.IsNullOrWhiteSpace(url))
        {
            error = "is required";
            return false;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            error = $"'{url}' is not a URL (expected mqtt://HOST:PORT or mqtts://HOST:PORT)";
            return false;
        }

        bool tls;
        switch (uri.Scheme)
        {
            case "mqtt" or "tcp":
                tls = false;
                break;
            case "mqtts" or "ssl" or "tls":
                tls = true;
                break;
            default:
                error = $"scheme '{uri.Scheme}' is not supported (use mqtt:// or mqtts://)";
                return false;
        }

        var port = uri.IsDefaultPort || uri.Port <= 0 ? (tls ? 8883 : 1883) : uri.Port;
        address = new BrokerAddress(uri.Host, port, tls);
        error = string.Empty;
        return true;
    }

    public static BrokerAddress Parse(string url) =>
        TryParse(url, out var address, out var error) ? address! : throw new FormatException($"broker URL {error}");

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{(UseTls ? "mqtts" : "mqtt")}://{Host}:{Port}");
}
