namespace EdgeAgent.Bench.Fleet;

/// <summary>What one fleet simulation run measured (written as JSON by <c>--json</c>).</summary>
public sealed record FleetResult
{
    public required string Command { get; init; }

    public required string Machine { get; init; }

    public required int Devices { get; init; }

    public required int FailingDevices { get; init; }

    public required int Seed { get; init; }

    public required string Waves { get; init; }

    public required decimal SuccessThreshold { get; init; }

    public required decimal AbortThreshold { get; init; }

    /// <summary>DOTNET_ThreadPool_UnfairSemaphoreSpinLimit the run had ("default" when unset).</summary>
    public required string ThreadPoolSpinLimit { get; init; }

    public required string StateDirectory { get; init; }

    public required string BrokerOpenFileLimit { get; init; }

    public required double StartSeconds { get; init; }

    public required double SetupSeconds { get; init; }

    public required string LoadAverageStart { get; init; }

    public required string LoadAverageEnd { get; init; }

    public required int OrtSessionsCreated { get; init; }

    /// <summary>The agents' process CPU over 5 s of idling after the setup (% of one core).</summary>
    public required double IdleCpuPercentOfOneCore { get; init; }

    public required long ProcessPeakRssBytes { get; init; }

    public required int AgentWarnings { get; init; }

    public required int AgentErrors { get; init; }

    public required IReadOnlyList<string> LastAgentErrors { get; init; }

    public required IReadOnlyList<ScenarioResult> Scenarios { get; init; }
}

public sealed record ScenarioResult
{
    public required string Name { get; init; }

    public required string Version { get; init; }

    public required IReadOnlyList<string> DeviceTypes { get; init; }

    public required long BundleBytes { get; init; }

    public required long ModelBytes { get; init; }

    public required double PublishSeconds { get; init; }

    public required string State { get; init; }

    public string? Reason { get; init; }

    public required int FinalWave { get; init; }

    /// <summary>From the rollout's start until its driver finished (completed, or aborted with the wave rolled back on the broker).</summary>
    public required double DriverSeconds { get; init; }

    /// <summary>From the rollout's start until the last device became Active on the version (null when not all did).</summary>
    public double? AllActiveSeconds { get; init; }

    public required int Active { get; init; }

    public required int Failed { get; init; }

    public required int Targeted { get; init; }

    public double? P50DeviceSeconds { get; init; }

    public double? P95DeviceSeconds { get; init; }

    public required IReadOnlyList<WaveResult> WaveTimes { get; init; }

    public required IReadOnlyList<string> FailureReasons { get; init; }

    /// <summary>When the driver decided to abort (seconds since the rollout's start); null when it did not.</summary>
    public double? AbortedSeconds { get; init; }

    public int? Restored { get; init; }

    /// <summary>After an abort: from the driver's abort decision until every restored device was Active on its previous version again.</summary>
    public double? RollbackSeconds { get; init; }

    public required double BrokerCpuSeconds { get; init; }

    public required double BrokerCpuPercentOfOneCore { get; init; }

    public required long BrokerPeakRssBytes { get; init; }

    public required long ProcessPeakRssBytes { get; init; }

    public required long Reconnects { get; init; }

    /// <summary>Kernel socket counters (ss -tin): MQTT bytes each updated device received during the scenario.</summary>
    public required Distribution WireReceivedPerDevice { get; init; }

    public required Distribution WireSentPerDevice { get; init; }

    public required int WireDevicesMeasured { get; init; }

    /// <summary>ChunkFetcher.BytesReceived per updated device: chunk payloads only, a lower bound.</summary>
    public required Distribution ChunkPayloadPerDevice { get; init; }

    /// <summary>Wire bytes received per device (max) over the bundle file's size.</summary>
    public double? WireRatioMax { get; init; }

    public double? WireRatioMedian { get; init; }

    /// <summary>Wire bytes received per device (max) over the model file's size (the chunked payload).</summary>
    public double? WireRatioToModelMax { get; init; }

    public required IReadOnlyList<double[]> Progress { get; init; }
}

public sealed record WaveResult(int Wave, int Devices, double StartedSeconds, double? LastActiveSeconds);

public sealed record Distribution(long Min, long Median, long Max, double Mean)
{
    public static Distribution Of(IReadOnlyCollection<long> values)
    {
        if (values.Count == 0)
        {
            return new Distribution(0, 0, 0, 0);
        }

        var sorted = values.Order().ToArray();
        return new Distribution(sorted[0], sorted[sorted.Length / 2], sorted[^1], sorted.Average());
    }
}
