using System.Security.Cryptography;
using EdgeAgent.Core.Bundles;

namespace EdgeAgent.Core.Tests.Bundles;

public sealed class ChunkTableTests
{
    private const int ChunkSize = 64;

    private static byte[] Data(int length) => [.. Enumerable.Range(0, length).Select(i => (byte)((i * 31) + 5))];

    private static string Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    [Theory]
    [InlineData(0, 0)]
    [InlineData(1, 1)]
    [InlineData(ChunkSize, 1)]
    [InlineData(ChunkSize + 1, 2)]
    [InlineData((3 * ChunkSize) - 1, 3)]
    public void File_is_hashed_whole_and_per_chunk(int length, int chunks)
    {
        var data = Data(length);

        var entry = ChunkTable.Describe("model.onnx", new MemoryStream(data), ChunkSize);

        Assert.Equal("model.onnx", entry.Path);
        Assert.Equal(length, entry.Length);
        Assert.Equal(ChunkSize, entry.ChunkSize);
        Assert.Equal(Hex(data), entry.Sha256);
        Assert.Equal(chunks, entry.Chunks.Count);
        Assert.Equal(chunks, entry.ExpectedChunkCount());
        var expected = Enumerable.Range(0, chunks).Select(i => Hex(data.AsSpan(i * ChunkSize, Math.Min(ChunkSize, length - (i * ChunkSize)))));
        Assert.Equal(expected, entry.Chunks);
    }

    [Fact]
    public void Last_chunk_holds_only_the_remaining_bytes()
    {
        var entry = ChunkTable.Describe("m", new MemoryStream(Data(ChunkSize + 1)), ChunkSize);

        Assert.Equal(ChunkSize, entry.ChunkLength(0));
        Assert.Equal(1, entry.ChunkLength(1));
    }

    [Fact]
    public void Stream_that_returns_a_few_bytes_per_read_gives_the_same_table()
    {
        var data = Data((2 * ChunkSize) + 10);

        var whole = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);
        var trickled = ChunkTable.Describe("m", new TrickleStream(data, 3), ChunkSize);

        Assert.Equal(whole.Sha256, trickled.Sha256);
        Assert.Equal(whole.Chunks, trickled.Chunks);
        Assert.Equal(whole.Length, trickled.Length);
    }

    [Fact]
    public void Chunk_with_the_signed_bytes_matches()
    {
        var data = Data(ChunkSize + 1);
        var entry = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);

        Assert.True(ChunkTable.ChunkMatches(entry, 0, data.AsSpan(0, ChunkSize)));
        Assert.True(ChunkTable.ChunkMatches(entry, 1, data.AsSpan(ChunkSize)));
    }

    [Fact]
    public void Tampered_chunk_does_not_match()
    {
        var data = Data(ChunkSize);
        var entry = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);
        data[10] ^= 0x01;

        Assert.False(ChunkTable.ChunkMatches(entry, 0, data));
    }

    [Fact]
    public void Chunk_of_the_wrong_length_does_not_match()
    {
        var data = Data(ChunkSize + 1);
        var entry = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);

        Assert.False(ChunkTable.ChunkMatches(entry, 0, data.AsSpan(0, ChunkSize - 1)));
        Assert.False(ChunkTable.ChunkMatches(entry, 1, data.AsSpan(ChunkSize - 1)));
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(2)]
    public void Chunk_index_outside_the_table_does_not_match(int index)
    {
        var data = Data(ChunkSize + 1);
        var entry = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);

        Assert.False(ChunkTable.ChunkMatches(entry, index, data.AsSpan(0, 1)));
    }

    [Fact]
    public void Chunk_in_the_wrong_place_does_not_match()
    {
        var data = Data(2 * ChunkSize);
        var entry = ChunkTable.Describe("m", new MemoryStream(data), ChunkSize);

        Assert.False(ChunkTable.ChunkMatches(entry, 1, data.AsSpan(0, ChunkSize)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-8)]
    public void Chunk_size_must_be_positive(int chunkSize)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkTable.Describe("m", new MemoryStream([1]), chunkSize));
    }

    /// <summary>Returns at most <c>step</c> bytes per read, like a socket.</summary>
    private sealed class TrickleStream(byte[] data, int step) : Stream
    {
        private int _position;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => _position; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            var n = Math.Min(Math.Min(count, step), data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
