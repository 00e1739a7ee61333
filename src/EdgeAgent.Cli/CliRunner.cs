using System.Security.Cryptography;
using System.Text.Json;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Cli;

/// <summary>Runs a command body and turns every expected failure into one line on stderr and an exit code.</summary>
internal static class CliRunner
{
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (BundleRejectedException ex)
        {
            return Fail(ExitCodes.Rejected, $"rejected: {ex.Describe()}");
        }
        catch (CliUsageException ex)
        {
            return Fail(ExitCodes.Usage, ex.Message);
        }
        catch (AgentUnreachableException ex)
        {
            return Fail(ExitCodes.AgentUnreachable, ex.Message);
        }
        catch (OperationCanceledException)
        {
            return Fail(130, "cancelled");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or CryptographicException or ArgumentException or InvalidDataException or JsonException or FormatException)
        {
            return Fail(ExitCodes.Error, ex.Message);
        }
        catch (MQTTnet.Exceptions.MqttCommunicationException ex)
        {
            return Fail(ExitCodes.Error, $"the broker closed the connection: {ex.Message}");
        }
        catch (MQTTnet.Exceptions.MqttProtocolViolationException ex)
        {
            return Fail(ExitCodes.Error, $"not valid for MQTT: {ex.Message}");
        }
    }

    public static int Fail(int code, string message)
    {
        Console.Error.WriteLine($"edgectl: {message}");
        return code;
    }

    public static void WriteJson(object value) =>
        Console.Out.WriteLine(JsonSerializer.Serialize(value, Core.CoreJson.Indented));
}
