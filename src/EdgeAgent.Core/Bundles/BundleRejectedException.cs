namespace EdgeAgent.Core.Bundles;

/// <summary>A bundle failed a trust or integrity rule. <see cref="Reason"/> is a stable code from <see cref="RejectionReason"/>.</summary>
public sealed class BundleRejectedException : Exception
{
    public BundleRejectedException()
        : this(RejectionReason.MalformedEnvelope, "bundle rejected")
    {
    }

    public BundleRejectedException(string message)
        : this(RejectionReason.MalformedEnvelope, message)
    {
    }

    public BundleRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = RejectionReason.MalformedEnvelope;
    }

    public BundleRejectedException(string reason, string message)
        : base(message)
    {
        Reason = reason;
    }

    public string Reason { get; }

    /// <summary>The line shown to people and written to <c>reported</c>: <c>reason: detail</c>.</summary>
    public string Describe() => $"{Reason}: {Message}";
}
