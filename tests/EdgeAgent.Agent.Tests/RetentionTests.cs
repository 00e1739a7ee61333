using EdgeAgent.Agent.Deployment;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core.Bundles;
using EdgeAgent.Core.Deployment;

namespace EdgeAgent.Agent.Tests;

/// <summary>Version retention and the disk budget on a real state folder.</summary>
public sealed class RetentionTests : IDisposable
{
    private const long MiB = 1024 * 1024;

    private readonly string _work = Directory.CreateTempSubdirectory("edgeagent-retention-").FullName;
    private readonly BundleStore _store;
    private readonly DeploymentStore _records;

    public RetentionTests()
    {
        var options = Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "d", StateDirectory = _work });
        _store = new BundleStore(options);
        _records = new DeploymentStore(options);
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);

    private VersionRetention Retention(int keep = 2, long budgetMegabytes = 0)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new AgentOptions
        {
            DeviceId = "d",
            StateDirectory = _work,
            KeepPreviousVersions = keep,
            DiskBudgetMegabytes = budgetMegabytes,
        });
        return new VersionRetention(_records, _store, options);
    }

    private void Record(string name, string? active, string? target, string state, string? reason = null, params string[] retained) =>
        _records.Update(name, _ => new ModelRecord
        {
            Name = name,
            ActiveVersion = active,
            TargetVersion = target,
            State = state,
            Reason = reason,
            Attempts = 1,
            Retained = retained,
        });

    private string Version(string name, string version, long bytes = 1024)
    {
        var dir = _store.VersionDirectory(name, version);
        Directory.CreateDirectory(dir);
        WriteFile(Path.Combine(dir, "model.onnx"), bytes);
        return dir;
    }

    private string Blob(string sha256, long bytes)
    {
        var path = _store.BlobPath(sha256);
        WriteFile(path, bytes);
        return path;
    }

    private string Parts(string sha256, long bytes)
    {
        var dir = _store.PartsDirectory(sha256);
        Directory.CreateDirectory(dir);
        WriteFile(Path.Combine(dir, "data"), bytes);
        return dir;
    }

    private static void WriteFile(string path, long bytes)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var block = new byte[64 * 1024];
        Array.Fill(block, (byte)0x5a);
        using var stream = File.Create(path);
        for (var left = bytes; left > 0; left -= block.Length)
        {
            stream.Write(block, 0, (int)Math.Min(block.Length, left));
        }
    }

    private static BundleManifest Manifest(string name, string version, params (string Sha256, long Length)[] files) => new()
    {
        Name = name,
        Version = version,
        Model = "model.onnx",
        Files = [.. files.Select((f, i) => new BundleFileEntry
        {
            Path = i == 0 ? "model.onnx" : $"extra-{i}.bin",
            Sha256 = f.Sha256,
            Length = f.Length,
            ChunkSize = 256 * 1024,
            Chunks = [],
        })],
    };

    private static string Sha(char c) => new(c, 64);

    private IReadOnlyList<string> RetainedOnDisk(string name) =>
        new DeploymentStore(Microsoft.Extensions.Options.Options.Create(new AgentOptions { DeviceId = "d", StateDirectory = _work })).Get(name)!.Retained;

    [Fact]
    public void Enforce_trims_retained_versions_to_the_configured_count_and_deletes_their_folders()
    {
        Record("vibration", "4.0.0", "4.0.0", DeploymentStates.Active, null, "3.0.0", "2.0.0", "1.0.0");
        var active = Version("vibration", "4.0.0");
        var newest = Version("vibration", "3.0.0");
        var second = Version("vibration", "2.0.0");
        var oldest = Version("vibration", "1.0.0");

        Retention(keep: 2).Enforce();

        Assert.Equal(["3.0.0", "2.0.0"], _records.Get("vibration")!.Retained);
        Assert.Equal(["3.0.0", "2.0.0"], RetainedOnDisk("vibration"));
        Assert.True(Directory.Exists(active));
        Assert.True(Directory.Exists(newest));
        Assert.True(Directory.Exists(second));
        Assert.False(Directory.Exists(oldest));
    }

    [Fact]
    public void Keeping_no_previous_versions_leaves_only_the_active_one()
    {
        Record("vibration", "2.0.0", "2.0.0", DeploymentStates.Active, null, "1.0.0");
        var active = Version("vibration", "2.0.0");
        var previous = Version("vibration", "1.0.0");

        Retention(keep: 0).Enforce();

        Assert.Empty(_records.Get("vibration")!.Retained);
        Assert.True(Directory.Exists(active));
        Assert.False(Directory.Exists(previous));
    }

    [Fact]
    public void Enforce_leaves_a_record_within_the_limit_untouched()
    {
        Record("vibration", "2.0.0", "2.0.0", DeploymentStates.Active, null, "1.0.0");
        var before = _records.Get("vibration");
        Version("vibration", "2.0.0");
        var previous = Version("vibration", "1.0.0");

        Retention(keep: 2).Enforce();

        Assert.Same(before, _records.Get("vibration"));
        Assert.True(Directory.Exists(previous));
    }

    [Fact]
    public void Enforce_deletes_version_folders_nothing_refers_to()
    {
        Record("vibration", "2.0.0", "2.0.0", DeploymentStates.Active, null, "1.0.0");
        var active = Version("vibration", "2.0.0");
        var retained = Version("vibration", "1.0.0");
        var stray = Version("vibration", "0.5.0");
        var leftoverStaging = Version("vibration", "3.0.0.staging");

        Retention().Enforce();

        Assert.True(Directory.Exists(active));
        Assert.True(Directory.Exists(retained));
        Assert.False(Directory.Exists(stray));
        Assert.False(Directory.Exists(leftoverStaging));
    }

    [Theory]
    [InlineData(DeploymentStates.Fetching)]
    [InlineData(DeploymentStates.Staging)]
    [InlineData(DeploymentStates.Activating)]
    [InlineData(DeploymentStates.Staged)]
    public void Enforce_keeps_the_version_being_deployed_and_its_staging_folder(string state)
    {
        Record("vibration", "1.0.0", "2.0.0", state);
        var active = Version("vibration", "1.0.0");
        var target = Version("vibration", "2.0.0");
        var staging = Version("vibration", "2.0.0.staging");
        var stray = Version("vibration", "0.9.0");

        Retention().Enforce();

        Assert.True(Directory.Exists(active));
        Assert.True(Directory.Exists(target));
        Assert.True(Directory.Exists(staging));
        Assert.False(Directory.Exists(stray));
    }

    [Theory]
    [InlineData(DeploymentStates.Failed)]
    [InlineData(DeploymentStates.RolledBack)]
    public void Enforce_deletes_the_folder_of_a_deployment_that_ended(string state)
    {
        Record("vibration", "1.0.0", "2.0.0", state, "acceptance-failed: vector 0 differs");
        var active = Version("vibration", "1.0.0");
        var target = Version("vibration", "2.0.0");
        var staging = Version("vibration", "2.0.0.staging");

        Retention().Enforce();

        Assert.True(Directory.Exists(active));
        Assert.False(Directory.Exists(target));
        Assert.False(Directory.Exists(staging));
    }

    [Fact]
    public void Enforce_deletes_the_folders_of_a_model_without_a_record()
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        var kept = Version("vibration", "1.0.0");
        Version("ghost", "1.0.0");
        Version("ghost", "2.0.0");

        Retention().Enforce();

        Assert.True(Directory.Exists(kept));
        Assert.False(Directory.Exists(Path.Combine(_store.ModelDirectory, "ghost")));
    }

    [Fact]
    public void Enforce_without_any_folder_or_record_does_nothing()
    {
        Retention().Enforce();

        Assert.False(Directory.Exists(_store.ModelDirectory));
        Assert.Empty(_records.Snapshot());
    }

    [Fact]
    public void Enforce_deletes_downloads_when_no_deployment_is_under_way()
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        Record("pump", "1.0.0", "2.0.0", DeploymentStates.Failed, "unknown-key: untrusted");
        Version("vibration", "1.0.0");
        var blob = Blob(Sha('a'), 4096);
        var parts = Parts(Sha('b'), 4096);

        Retention().Enforce();

        Assert.False(File.Exists(blob));
        Assert.False(Directory.Exists(parts));
        Assert.True(Directory.Exists(_store.BlobDirectory));
        Assert.Empty(Directory.EnumerateFileSystemEntries(_store.BlobDirectory));
    }

    [Theory]
    [InlineData(DeploymentStates.Pending, null)]
    [InlineData(DeploymentStates.Fetching, null)]
    [InlineData(DeploymentStates.Verifying, null)]
    [InlineData(DeploymentStates.Staged, null)]
    [InlineData(DeploymentStates.Probation, null)]
    [InlineData(DeploymentStates.Failed, "timeout: no chunk within 30s")]
    [InlineData(DeploymentStates.Failed, "interrupted while Fetching (agent restarted)")]
    [InlineData(DeploymentStates.Failed, "insufficient-disk: 10 MiB free, 80 MiB needed")]
    public void Enforce_keeps_downloads_while_a_deployment_is_under_way_or_will_resume(string state, string? reason)
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        Record("pump", "1.0.0", "2.0.0", state, reason);
        var blob = Blob(Sha('a'), 4096);
        var parts = Parts(Sha('b'), 4096);

        Retention().Enforce();

        Assert.True(File.Exists(blob));
        Assert.True(Directory.Exists(parts));
        Assert.True(File.Exists(Path.Combine(parts, "data")));
    }

    [Fact]
    public void Usage_counts_model_folders_and_downloads()
    {
        Version("vibration", "1.0.0", 3000);
        Version("vibration", "2.0.0", 2000);
        Blob(Sha('a'), 500);
        Parts(Sha('b'), 250);

        Assert.Equal(5750, Retention().UsageBytes());
    }

    [Fact]
    public void Without_a_budget_make_room_does_nothing()
    {
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        var oldest = Version("vibration", "1.0.0", 2 * MiB);

        Retention(budgetMegabytes: 0).MakeRoom(Manifest("vibration", "4.0.0", (Sha('c'), 1024 * MiB)));

        Assert.Equal(["2.0.0", "1.0.0"], _records.Get("vibration")!.Retained);
        Assert.True(Directory.Exists(oldest));
    }

    [Fact]
    public void Bundle_that_fits_the_budget_drops_nothing()
    {
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        Version("vibration", "3.0.0", 2 * MiB);
        Version("vibration", "2.0.0", 2 * MiB);
        var oldest = Version("vibration", "1.0.0", 2 * MiB);

        // 6 MiB used + 2 × 2 MiB needed = 10 MiB: exactly the budget.
        Retention(budgetMegabytes: 10).MakeRoom(Manifest("vibration", "4.0.0", (Sha('c'), 2 * MiB)));

        Assert.Equal(["2.0.0", "1.0.0"], _records.Get("vibration")!.Retained);
        Assert.True(Directory.Exists(oldest));
    }

    [Fact]
    public void Make_room_drops_the_oldest_retained_version_first()
    {
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        var active = Version("vibration", "3.0.0", 2 * MiB);
        var newer = Version("vibration", "2.0.0", 2 * MiB);
        var oldest = Version("vibration", "1.0.0", 2 * MiB);

        // 6 MiB used + 2 × 2.5 MiB needed = 11 MiB > 10: dropping 1.0.0 (2 MiB) is enough.
        Retention(budgetMegabytes: 10).MakeRoom(Manifest("vibration", "4.0.0", (Sha('c'), 5 * MiB / 2)));

        Assert.Equal(["2.0.0"], _records.Get("vibration")!.Retained);
        Assert.Equal(["2.0.0"], RetainedOnDisk("vibration"));
        Assert.False(Directory.Exists(oldest));
        Assert.True(Directory.Exists(newer));
        Assert.True(Directory.Exists(active));
    }

    [Fact]
    public void Make_room_drops_as_many_versions_as_needed()
    {
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        var active = Version("vibration", "3.0.0", 2 * MiB);
        var newer = Version("vibration", "2.0.0", 2 * MiB);
        var oldest = Version("vibration", "1.0.0", 2 * MiB);

        // 6 MiB used + 2 × 3.5 MiB = 13 MiB: both retained versions must go (2 + 7 = 9 MiB).
        Retention(budgetMegabytes: 10).MakeRoom(Manifest("vibration", "4.0.0", (Sha('c'), 7 * MiB / 2)));

        Assert.Empty(_records.Get("vibration")!.Retained);
        Assert.False(Directory.Exists(oldest));
        Assert.False(Directory.Exists(newer));
        Assert.True(Directory.Exists(active));
    }

    [Fact]
    public void Make_room_takes_from_the_model_that_keeps_the_most_versions()
    {
        Record("pump", "2.0.0", "2.0.0", DeploymentStates.Active, null, "1.0.0");
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        Version("pump", "2.0.0", MiB);
        var pumpPrevious = Version("pump", "1.0.0", MiB);
        Version("vibration", "3.0.0", MiB);
        var vibrationNewer = Version("vibration", "2.0.0", MiB);
        var vibrationOldest = Version("vibration", "1.0.0", MiB);

        // 5 MiB used + 2 × 1 MiB = 7 MiB > 6: one version must go.
        Retention(budgetMegabytes: 6).MakeRoom(Manifest("mixer", "1.0.0", (Sha('c'), MiB)));

        Assert.Equal(["1.0.0"], _records.Get("pump")!.Retained);
        Assert.Equal(["2.0.0"], _records.Get("vibration")!.Retained);
        Assert.True(Directory.Exists(pumpPrevious));
        Assert.True(Directory.Exists(vibrationNewer));
        Assert.False(Directory.Exists(vibrationOldest));
    }

    [Fact]
    public void Files_already_downloaded_are_not_counted_again()
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        Version("vibration", "1.0.0", 2 * MiB);
        Blob(Sha('c'), 3 * MiB);

        // 5 MiB used; the blob is complete, so nothing more is needed.
        Retention(budgetMegabytes: 6).MakeRoom(Manifest("vibration", "2.0.0", (Sha('c'), 3 * MiB)));
    }

    [Fact]
    public void A_partly_downloaded_file_still_counts_in_full()
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        Version("vibration", "1.0.0", 2 * MiB);
        Blob(Sha('c'), MiB);

        // The blob on disk is shorter than the manifest says: 3 MiB used + 2 × 3 MiB needed = 9 MiB > 6.
        var ex = Assert.Throws<BundleRejectedException>(() => Retention(budgetMegabytes: 6).MakeRoom(Manifest("vibration", "2.0.0", (Sha('c'), 3 * MiB))));

        Assert.Equal(RejectionReason.DiskBudget, ex.Reason);
    }

    [Fact]
    public void Bundle_that_cannot_fit_even_without_retained_versions_is_refused_with_the_numbers()
    {
        Record("vibration", "3.0.0", "3.0.0", DeploymentStates.Active, null, "2.0.0", "1.0.0");
        Version("vibration", "3.0.0", 2 * MiB);
        Version("vibration", "2.0.0", 2 * MiB);
        Version("vibration", "1.0.0", 2 * MiB);

        // 2 × 5 MiB needed: even with only the active version (2 MiB) it is 12 MiB > 10.
        var ex = Assert.Throws<BundleRejectedException>(
            () => Retention(budgetMegabytes: 10).MakeRoom(Manifest("vibration", "4.0.0", (Sha('c'), 4 * MiB), (Sha('d'), MiB))));

        Assert.Equal(RejectionReason.DiskBudget, ex.Reason);
        Assert.Equal(
            "vibration 4.0.0 needs 10 MiB more; the agent already uses 6 MiB of its 10 MiB budget (Agent:DiskBudgetMegabytes), 4 MiB of it in older versions it could remove",
            ex.Message);
        Assert.StartsWith("disk-budget: vibration 4.0.0 needs 10 MiB more", ex.Describe(), StringComparison.Ordinal);

        // Refused before anything was deleted: the rollback targets are still there.
        Assert.True(Directory.Exists(Path.Combine(_work, "models", "vibration", "2.0.0")));
        Assert.True(Directory.Exists(Path.Combine(_work, "models", "vibration", "1.0.0")));
    }

    [Fact]
    public void Bundle_over_the_budget_with_nothing_retained_is_refused_at_once()
    {
        Record("vibration", "1.0.0", "1.0.0", DeploymentStates.Active);
        var active = Version("vibration", "1.0.0", 3 * MiB / 2);

        var ex = Assert.Throws<BundleRejectedException>(
            () => Retention(budgetMegabytes: 4).MakeRoom(Manifest("vibration", "2.0.0", (Sha('c'), 3 * MiB / 2))));

        Assert.Equal(RejectionReason.DiskBudget, ex.Reason);
        Assert.Contains("needs 3 MiB more", ex.Message, StringComparison.Ordinal);
        Assert.Contains("already uses 1.5 MiB of its 4 MiB budget", ex.Message, StringComparison.Ordinal);
        Assert.True(Directory.Exists(active));
    }

    [Fact]
    public void Make_room_refuses_a_null_manifest()
    {
        Assert.Throws<ArgumentNullException>(() => Retention(budgetMegabytes: 10).MakeRoom(null!));
    }
}
