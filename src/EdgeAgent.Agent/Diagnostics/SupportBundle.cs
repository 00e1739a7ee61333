namespace EdgeAgent.Agent.Diagnostics;

/// <summary>A built support bundle: a <c>.tar.gz</c> named <paramref name="FileName"/>, its SHA-256 (hex) and entry names.</summary>
public sealed record SupportBundle(string FileName, byte[] Content, string Sha256, IReadOnlyList<string> Entries);
