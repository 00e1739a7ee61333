using System.Diagnostics.CodeAnalysis;
using EdgeAgent.Agent.Options;
using LiteDB;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Capture;

/// <summary>
/// Captured samples in a LiteDB file (<c>capture.db</c> in the state directory), bounded by <c>Capture:MaxMegabytes</c>
/// of sample data: past it the oldest samples are dropped and counted. Ids are assigned here (monotonic, never reused),
/// so an exporter can page with "after id".
/// </summary>
public sealed class CaptureStore : IDisposable
{
    private readonly Lazy<Database> _db;
    private readonly long _budget;
    private readonly Lock _gate = new();

    public CaptureStore(IOptions<AgentOptions> agent, IOptions<CaptureOptions> capture)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(capture);
        Path = System.IO.Path.Combine(agent.Value.StateDirectory, "capture.db");
        _budget = (long)capture.Value.MaxMegabytes * 1024 * 1024;

        // Opened on first use: a device without capture never creates the file.
        _db = new Lazy<Database>(() => new Database(Path), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Path { get; }

    /// <summary>The database when the file exists (opened on first use), else null; callers hold the lock.</summary>
    private Database? Existing => _db.IsValueCreated || File.Exists(Path) ? _db.Value : null;

    /// <summary>Samples kept now.</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return Existing?.Count ?? 0;
            }
        }
    }

    /// <summary>Bytes of sample data kept now.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return Existing?.Bytes ?? 0;
            }
        }
    }

    /// <summary>Samples dropped to stay within the budget, since the file was created.</summary>
    public long Dropped
    {
        get
        {
            lock (_gate)
            {
                return Existing?.Dropped ?? 0;
            }
        }
    }

    public void Add(CaptureSample sample)
    {
        ArgumentNullException.ThrowIfNull(sample);
        lock (_gate)
        {
            var db = _db.Value;
            sample.Id = ++db.LastId;
            db.Samples.Insert(sample);
            db.Bytes += sample.Json.Length;
            db.Count++;
            while (db.Bytes > _budget && db.Count > 1)
            {
                var oldest = db.Samples.Query().OrderBy(s => s.Id).Limit(1).First();
                db.Samples.Delete(oldest.Id);
                db.Bytes -= oldest.Json.Length;
                db.Count--;
                db.Dropped++;
            }

            db.SaveMeta();
        }
    }

    /// <summary>Samples with an id above <paramref name="after"/>, oldest first, of one model or all.</summary>
    public IReadOnlyList<CaptureSample> Read(string? model, long after, int limit)
    {
        lock (_gate)
        {
            if (Existing is not { } db)
            {
                return [];
            }

            var query = db.Samples.Query().Where(s => s.Id > after);
            if (model is not null)
            {
                query = query.Where(s => s.Model == model);
            }

            return query.OrderBy(s => s.Id).Limit(limit).ToList();
        }
    }

    /// <summary>Deletes the samples up to and including <paramref name="upTo"/> (of one model or all); returns how many.</summary>
    public int Delete(string? model, long upTo)
    {
        lock (_gate)
        {
            if (Existing is not { } db)
            {
                return 0;
            }

            var doomed = db.Samples.Query().Where(s => s.Id <= upTo).ToList().Where(s => model is null || s.Model == model).ToList();
            foreach (var s in doomed)
            {
                db.Samples.Delete(s.Id);
                db.Bytes -= s.Json.Length;
                db.Count--;
            }

            return doomed.Count;
        }
    }

    public void Dispose()
    {
        if (_db.IsValueCreated)
        {
            _db.Value.Dispose();
        }
    }

    private sealed class Database : IDisposable
    {
        private readonly LiteDatabase _db;
        private readonly ILiteCollection<BsonDocument> _meta;

        // LiteDB maps CaptureSample by reflection (its BsonMapper): keep its properties and constructor in a trimmed or
        // native-AOT build, where nothing else tells the compiler that they are reflected on.
        [DynamicDependency(DynamicallyAccessedMemberTypes.PublicProperties | DynamicallyAccessedMemberTypes.PublicConstructors, typeof(CaptureSample))]
        public Database(string path)
        {
            Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
            // Its own mapper: LiteDB's global BsonMapper registers an entity type on first use without a lock, and the
            // first capture can come while another store (or another agent in the same process) maps its own types.
            _db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Direct }, new BsonMapper());
            Samples = _db.GetCollection<CaptureSample>("samples");
            _meta = _db.GetCollection<BsonDocument>("meta");
            var meta = _meta.FindById("capture");
            Dropped = meta?["dropped"].AsInt64 ?? 0;
            var newest = Samples.Query().OrderByDescending(s => s.Id).Limit(1).FirstOrDefault();
            LastId = Math.Max(meta?["lastId"].AsInt64 ?? 0, newest?.Id ?? 0);
            foreach (var s in Samples.FindAll())
            {
                Bytes += s.Json.Length;
                Count++;
            }
        }

        public ILiteCollection<CaptureSample> Samples { get; }

        public long LastId { get; set; }

        public long Bytes { get; set; }

        public int Count { get; set; }

        public long Dropped { get; set; }

        public void SaveMeta() => _meta.Upsert(new BsonDocument { ["_id"] = "capture", ["lastId"] = LastId, ["dropped"] = Dropped });

        public void Dispose() => _db.Dispose();
    }
}
