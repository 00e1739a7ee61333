using System.Formats.Tar;

namespace EdgeAgent.Core.Bundles;

/// <summary>
/// The file form <c>NAME-VERSION.edgebundle</c>: a POSIX tar holding <c>envelope.json</c> (the DSSE-signed manifest)
/// and every file the manifest lists, at its manifest path.
/// </summary>
public static class BundleArchive
{
    public const string EnvelopeEntry = "envelope.json";
    public const long MaxEnvelopeBytes = ManifestVerifier.MaxEnvelopeBytes;

    public static void Write(string outPath, byte[] envelope, IReadOnlyList<(string Path, string Source)> files)
    {
        ArgumentNullException.ThrowIfNull(envelope);
        ArgumentNullException.ThrowIfNull(files);
        var temp = outPath + ".tmp";
        using (var stream = File.Create(temp))
        using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: false))
        {
            var entry = new PaxTarEntry(TarEntryType.RegularFile, EnvelopeEntry) { DataStream = new MemoryStream(envelope), Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead };
            writer.WriteEntry(entry);
            foreach (var (path, source) in files)
            {
                using var data = File.OpenRead(source);
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, path) { DataStream = data, Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead });
            }
        }

        File.Move(temp, outPath, overwrite: true);
    }

    /// <summary>Reads the envelope bytes of a bundle file without extracting anything else.</summary>
    public static byte[] ReadEnvelope(string bundlePath) => Guard(bundlePath, () => ReadEnvelopeCore(bundlePath));

    private static byte[] ReadEnvelopeCore(string bundlePath)
    {
        using var stream = OpenBundle(bundlePath);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name == EnvelopeEntry && entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile)
            {
                if (entry.Length > MaxEnvelopeBytes || entry.DataStream is null)
                {
                    throw new BundleRejectedException(RejectionReason.TooLarge, $"{EnvelopeEntry} is {entry.Length} bytes, more than {MaxEnvelopeBytes}");
                }

                using var buffer = new MemoryStream();
                entry.DataStream.CopyTo(buffer);
                return buffer.ToArray();
            }
        }

        throw new BundleRejectedException(RejectionReason.MalformedEnvelope, $"{bundlePath} holds no {EnvelopeEntry}");
    }

    /// <summary>
    /// Streams each regular file entry listed in the verified manifest to <paramref name="visit"/> after checking its
    /// declared length. Entries not in the manifest, links and unsafe names are refused.
    /// </summary>
    public static void ForEachFile(string bundlePath, BundleManifest manifest, Action<BundleFileEntry, Stream> visit) =>
        Guard(bundlePath, () =>
        {
            ForEachFileCore(bundlePath, manifest, visit);
            return true;
        });

    /// <summary>A damaged tar (bad header, checksum, truncation) is a refusal like any other, not a crash.</summary>
    private static T Guard<T>(string bundlePath, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or EndOfStreamException or ArgumentException or OverflowException)
        {
            throw new BundleRejectedException(RejectionReason.MalformedArchive, $"{Path.GetFileName(bundlePath)} is not a readable bundle tar ({ex.Message})");
        }
    }

    private static void ForEachFileCore(string bundlePath, BundleManifest manifest, Action<BundleFileEntry, Stream> visit)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(visit);
        var expected = manifest.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        using var stream = OpenBundle(bundlePath);
        using var reader = new TarReader(stream);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.Name == EnvelopeEntry || entry.EntryType == TarEntryType.Directory)
            {
                continue;
            }

            if (!BundlePaths.IsSafeRelative(entry.Name))
            {
                throw new BundleRejectedException(RejectionReason.UnsafePath, $"entry '{entry.Name}' escapes the bundle folder");
            }

            if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile))
            {
                throw new BundleRejectedException(RejectionReason.UnsafePath, $"entry '{entry.Name}' is a {entry.EntryType}, only regular files are allowed");
            }

            if (!expected.TryGetValue(entry.Name, out var file))
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"entry '{entry.Name}' is not listed in the signed manifest");
            }

            if (entry.Length != file.Length)
            {
                throw new BundleRejectedException(RejectionReason.LengthMismatch, $"'{entry.Name}' is {entry.Length} bytes, the manifest says {file.Length}");
            }

            if (!seen.Add(entry.Name))
            {
                throw new BundleRejectedException(RejectionReason.MalformedManifest, $"entry '{entry.Name}' appears twice");
            }

            visit(file, entry.DataStream ?? Stream.Null);
        }

        var missing = expected.Keys.Except(seen, StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw new BundleRejectedException(RejectionReason.MalformedManifest, $"bundle lacks {string.Join(", ", missing)}");
        }
    }

    private static FileStream OpenBundle(string bundlePath)
    {
        if (!File.Exists(bundlePath))
        {
            throw new FileNotFoundException($"bundle not found: {bundlePath}", bundlePath);
        }

        return File.OpenRead(bundlePath);
    }
}
