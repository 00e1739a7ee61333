using System.Text;
using System.Text.Json;
using EdgeAgent.Agent.Json;
using EdgeAgent.Core;

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

    /// <summary>Writes <paramref name="value"/> as indented JSON, atomically.</summary>
    public static void WriteJson<T>(string path, T value) => WriteAtomically(path, JsonSerializer.SerializeToUtf8Bytes(value, AgentJson.Indented.Info<T>()));

    /// <summary>
    /// Reads a JSON state file; <paramref name="fallback"/> when it does not exist. A file that does not parse is an
    /// <see cref="InvalidDataException"/> naming it, with <paramref name="advice"/> on what to do.
    /// </summary>
    public static T ReadJson<T>(string path, T fallback, string advice)
    {
        if (!File.Exists(path))
        {
            return fallback;
        }

        try
        {
            return JsonSerializer.Deserialize(File.ReadAllBytes(path), AgentJson.Info<T>()) ?? fallback;
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"state file {path} is corrupt ({ex.Message}); {advice}", ex);
        }
    }
}
