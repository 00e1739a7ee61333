namespace EdgeAgent.Core.Bundles;

/// <summary>What a device expects of a manifest besides a valid signature.</summary>
public sealed record VerificationPolicy
{
    /// <summary>Name the manifest must carry (what desired state asked for); null to accept any.</summary>
    public string? ExpectedName { get; init; }

    /// <summary>Version the manifest must carry; null to accept any.</summary>
    public string? ExpectedVersion { get; init; }

    /// <summary>This device's architecture (<c>x64</c>, <c>arm64</c>); null skips the check.</summary>
    public string? Architecture { get; init; }

    /// <summary>This device's type (<c>Agent:DeviceType</c>; empty when it has none); null skips the check.</summary>
    public string? DeviceType { get; init; }

    /// <summary>The highest version of this model the device accepted (and the digest of that manifest); null skips the anti-rollback check.</summary>
    public AcceptedVersion? HighestAccepted { get; init; }

    /// <summary>Skip the expiry check (used when reloading a version that was verified and activated before it expired).</summary>
    public bool IgnoreExpiry { get; init; }

    /// <summary>Largest total size of all files the device accepts.</summary>
    public long MaxBundleBytes { get; init; } = 2L * 1024 * 1024 * 1024;

    public int MaxChunkSize { get; init; } = DefaultMaxChunkSize;

    /// <summary>Largest chunk a device accepts by default (and so the largest <c>edgectl bundle create</c> makes).</summary>
    public const int DefaultMaxChunkSize = 1024 * 1024;

    public int MaxFiles { get; init; } = 64;
}
