using System.Formats.Tar;

namespace EdgeAgent.Fleet.Tests.Infrastructure;

/// <summary>Reads and rewrites the entries of a bundle tar, to make the bundles an attacker or a broken tool would.</summary>
public static class TarFiles
{
    public static List<(string Name, byte[] Data)> Read(string path)
    {
        var entries = new List<(string, byte[])>();
        using var stream = File.OpenRead(path);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry(copyData: true) is { } entry)
        {
            using var data = new MemoryStream();
            entry.DataStream?.CopyTo(data);
            entries.Add((entry.Name, data.ToArray()));
        }

        return entries;
    }

    public static void Write(string path, IEnumerable<(string Name, byte[] Data)> entries)
    {
        using var stream = File.Create(path);
        using var writer = new TarWriter(stream, TarEntryFormat.Pax);
        foreach (var (name, data) in entries)
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) });
        }
    }
}
