using System.Security.Cryptography;

namespace EdgeAgent.Core.Bundles;

public static class ChunkTable
{
    /// <summary>Default chunk size: 64 KiB, well inside the smallest common broker payload limit (AWS IoT Core: 128 KB).</summary>
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>Hashes a file whole and per chunk, streaming.</summary>
    public static BundleFileEntry Describe(string path, Stream content, int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(chunkSize);
        using var whole = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var chunks = new List<string>();
        var buffer = new byte[chunkSize];
        long length = 0;
        while (true)
        {
            var read = content.ReadAtLeast(buffer, chunkSize, throwOnEndOfStream: false);
            if (read == 0)
            {
                break;
            }

            whole.AppendData(buffer, 0, read);
            chunks.Add(Convert.ToHexStringLower(SHA256.HashData(buffer.AsSpan(0, read))));
            length += read;
            if (read < chunkSize)
            {
                break;
            }
        }

        return new BundleFileEntry
        {
            Path = path,
            Sha256 = Convert.ToHexStringLower(whole.GetHashAndReset()),
            Length = length,
            ChunkSize = chunkSize,
            Chunks = chunks,
        };
    }

    public static bool ChunkMatches(BundleFileEntry file, int index, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(file);
        return index >= 0 && index < file.Chunks.Count
            && data.Length == file.ChunkLength(index)
            && Convert.ToHexStringLower(SHA256.HashData(data)) == file.Chunks[index];
    }
}
