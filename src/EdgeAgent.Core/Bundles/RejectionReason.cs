namespace EdgeAgent.Core.Bundles;

/// <summary>Why a bundle was refused. The string codes are stable: they appear in <c>reported</c> and <c>events</c>.</summary>
public static class RejectionReason
{
    public const string MalformedEnvelope = "malformed-envelope";
    public const string MalformedArchive = "malformed-archive";
    public const string WrongPayloadType = "wrong-payload-type";
    public const string Unsigned = "unsigned";
    public const string UnknownKey = "unknown-key";
    public const string BadSignature = "bad-signature";
    public const string BelowThreshold = "below-threshold";
    public const string Downgrade = "downgrade";
    public const string MalformedManifest = "malformed-manifest";
    public const string NameMismatch = "name-mismatch";
    public const string VersionMismatch = "version-mismatch";
    public const string Expired = "expired";
    public const string WrongArchitecture = "wrong-architecture";
    public const string WrongDeviceType = "wrong-device-type";
    public const string UnsafePath = "unsafe-path";
    public const string BadChunkTable = "bad-chunk-table";
    public const string TooLarge = "too-large";

    /// <summary>Installing the bundle would take the agent's files over <c>Agent:DiskBudgetMegabytes</c>.</summary>
    public const string DiskBudget = "disk-budget";
    public const string HashMismatch = "hash-mismatch";
    public const string LengthMismatch = "length-mismatch";
    public const string Timeout = "timeout";
    public const string ModelLoadFailed = "model-load-failed";
    public const string InsufficientDisk = "insufficient-disk";
    public const string AcceptanceFailed = "acceptance-failed";
}
