using System.Text.Json.Serialization;

namespace EdgeAgent.Core.Bundles;

/// <summary>One file of a bundle: its place, size and hashes, whole and per chunk.</summary>
public sealed record BundleFileEntry
{
    [JsonPropertyName("path")] public required string Path { get; init; }

    [JsonPropertyName("sha256")] public required string Sha256 { get; init; }

    [JsonPropertyName("length")] public required long Length { get; init; }

    [JsonPropertyName("chunkSize")] public required int ChunkSize { get; init; }

    /// <summary>Lowercase hex SHA-256 of each chunk, in order.</summary>
    [JsonPropertyName("chunks")] public required IReadOnlyList<string> Chunks { get; init; }

    public int ExpectedChunkCount() =>
        Length == 0 ? 0 : checked((int)((Length + ChunkSize - 1) / ChunkSize));

    public int ChunkLength(int index) =>
        (int)Math.Min(ChunkSize, Length - ((long)index * ChunkSize));
}
