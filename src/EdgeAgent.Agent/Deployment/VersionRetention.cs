using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Deployment;

/// <summary>
/// Keeps the disk bounded: the active version of each model, the one being deployed, and the newest
/// <c>Agent:KeepPreviousVersions</c> earlier versions (instant rollback targets) stay; every other version folder and
/// every download no deployment needs any more is deleted. With <c>Agent:DiskBudgetMegabytes</c> set, older retained
/// versions make room for a new one, and a bundle that cannot fit is refused before a byte of it is fetched.
/// </summary>
public sealed class VersionRetention
{
    private readonly DeploymentStore _records;
    private readonly BundleStore _store;
    private readonly AgentOptions _options;

    public VersionRetention(DeploymentStore records, BundleStore store, IOptions<AgentOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _records = records;
        _store = store;
        _options = options.Value;
    }

    /// <summary>Bytes the agent's model folders and downloads take now.</summary>
    public long UsageBytes() => SizeOf(_store.ModelDirectory) + SizeOf(_store.BlobDirectory);

    /// <summary>
    /// Trims each model's retained list to the configured count and deletes version folders nothing refers to. Downloads
    /// are deleted only while no deployment is under way or waiting to resume, so an interrupted fetch keeps its chunks.
    /// </summary>
    public void Enforce()
    {
        foreach (var record in _records.Snapshot().Values)
        {
            if (record.Retained.Count > _options.KeepPreviousVersions)
            {
                _records.Update(record.Name, r => r! with { Retained = [.. r.Retained.Take(_options.KeepPreviousVersions)] });
            }
        }

        var snapshot = _records.Snapshot();
        if (Directory.Exists(_store.ModelDirectory))
        {
            foreach (var modelDir in Directory.EnumerateDirectories(_store.ModelDirectory))
            {
                var name = Path.GetFileName(modelDir);
                snapshot.TryGetValue(name, out var record);
                var keep = Needed(record);
                foreach (var versionDir in Directory.EnumerateDirectories(modelDir))
                {
                    var version = Path.GetFileName(versionDir);
                    if (!keep.Contains(version))
                    {
                        Directory.Delete(versionDir, recursive: true);
                    }
                }

                if (record is null && !Directory.EnumerateFileSystemEntries(modelDir).Any())
                {
                    Directory.Delete(modelDir);
                }
            }
        }

        var busy = snapshot.Values.Any(r => DeploymentStates.IsInProgress(r.State) || r.State == DeploymentStates.Staged || WillRetry(r));
        if (!busy && Directory.Exists(_store.BlobDirectory))
        {
            foreach (var entry in Directory.EnumerateFileSystemEntries(_store.BlobDirectory))
            {
                if (Directory.Exists(entry))
                {
                    Directory.Delete(entry, recursive: true);
                }
                else
                {
                    File.Delete(entry);
                }
            }
        }
    }

    /// <summary>
    /// With a disk budget: makes room for <paramref name="manifest"/> (downloaded once and installed once, so twice the
    /// bytes it still needs) by dropping the oldest retained versions; refuses with <c>disk-budget</c> when even that is not enough.
    /// </summary>
    public void MakeRoom(BundleManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if (_options.DiskBudgetMegabytes <= 0)
        {
            return;
        }

        var budget = _options.DiskBudgetMegabytes * 1024 * 1024;
        var needed = manifest.Files.Where(f => !_store.HasBlob(f)).Sum(f => f.Length) * 2;
        var usage = UsageBytes();
        var removable = _records.Snapshot().Values.SelectMany(r => r.Retained.Select(v => SizeOf(_store.VersionDirectory(r.Name, v)))).Sum();
        if (usage - removable + needed > budget)
        {
            // Refused before anything is deleted: the kept rollback targets stay when the bundle cannot fit anyway.
            throw new BundleRejectedException(
                RejectionReason.DiskBudget,
                $"{manifest.Name} {manifest.Version} needs {needed / 1048576.0:0.#} MiB more; the agent already uses {usage / 1048576.0:0.#} MiB of its {_options.DiskBudgetMegabytes} MiB budget (Agent:DiskBudgetMegabytes), {removable / 1048576.0:0.#} MiB of it in older versions it could remove");
        }

        while (UsageBytes() + needed > budget)
        {
            var oldest = _records.Snapshot().Values.Where(r => r.Retained.Count > 0).OrderByDescending(r => r.Retained.Count).FirstOrDefault();
            if (oldest is null)
            {
                break;
            }

            _records.Update(oldest.Name, r => r! with { Retained = [.. r.Retained.Take(r.Retained.Count - 1)] });
            var dropped = oldest.Retained[^1];
            var dir = _store.VersionDirectory(oldest.Name, dropped);
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static HashSet<string> Needed(ModelRecord? record)
    {
        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (record is null)
        {
            return keep;
        }

        if (record.ActiveVersion is { } active)
        {
            keep.Add(active);
        }

        if (record.TargetVersion is { } target && (DeploymentStates.IsInProgress(record.State) || record.State == DeploymentStates.Staged || WillRetry(record)))
        {
            keep.Add(target);
            keep.Add(target + ".staging");
        }

        keep.UnionWith(record.Retained);
        return keep;
    }

    /// <summary>A failure the planner may try again: its installed copy and downloads are kept so the retry needs no fetch.</summary>
    private static bool WillRetry(ModelRecord record) =>
        record.State == DeploymentStates.Failed && !DeploymentPlanner.IsPermanent(record.Reason);

    private static long SizeOf(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        long total = 0;
        foreach (var file in new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories))
        {
            try
            {
                total += file.Length;
            }
            catch (FileNotFoundException)
            {
                // Deleted while counting.
            }
        }

        return total;
    }
}
