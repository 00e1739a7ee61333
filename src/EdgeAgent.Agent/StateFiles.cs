using System.Text;

namespace EdgeAgent.Agent;

internal static class StateFiles
{
    /// <summary>Writes via a temporary file, fsync and rename, so a power cut leaves the old or the new content, never half.</summary>
    public static void WriteAtomically(string path, ReadOnlySpan<byte> content)
    {
        var dir = Path.GetDirectoryName(Path.GetFullPath(path))!;
        Directory.CreateDirectory(dir);
        var temp = Path.Combine(dir, $".{Path.GetFileName(path)}.{Environment.ProcessId}.tmp");
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            stream.Write(content);
            stream.Flush(flushToDisk: true);
        }

        File.Move(temp, path, overwrite: true);
    }

    public static void WriteAtomically(string path, string content) => WriteAtomically(path, Encoding.UTF8.GetBytes(content));
}
