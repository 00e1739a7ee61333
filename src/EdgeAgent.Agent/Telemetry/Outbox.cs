using EdgeAgent.Agent.Options;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Store-and-forward queue in a LiteDB file (<c>outbox.db</c>). A record leaves only after the broker acknowledged it.
/// Each kind has its own monotonic sequence, persisted with the record in one transaction. Bounded: past
/// <c>Telemetry:OutboxMaxRecords</c> the oldest records are dropped and counted.
/// </summary>
public sealed class Outbox : IDisposable
{
    private readonly LiteDatabase _db;
    private readonly ILiteCollection<OutboxRecord> _records;
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly Lock _gate = new();
    private readonly int _maxRecords;
    private readonly ILogger<Outbox> _logger;
    private readonly TimeProvider _time;
    private long _dropped;
    private long _lastId;
    private int _depth;
    private long _delivered;

    public Outbox(IOptions<AgentOptions> agent, IOptions<TelemetryOptions> telemetry, ILogger<Outbox> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(telemetry);
        Directory.CreateDirectory(agent.Value.StateDirectory);
        Path = System.IO.Path.Combine(agent.Value.StateDirectory, "outbox.db");
        _maxRecords = telemetry.Value.OutboxMaxRecords;
        _logger = logger;
        _time = time;
        try
        {
            _db = Open(out _records, out _meta);
        }
        catch (Exception ex) when (File.Exists(Path) && ex is not (OutOfMemoryException or UnauthorizedAccessException))
        {
            // A damaged telemetry buffer (power cut, disk error) must not keep inference down: keep it aside, start empty.
            var aside = $"{Path}.corrupt-{time.GetUtcNow():yyyyMMddHHmmss}";
            File.Move(Path, aside, overwrite: true);
            Log.OutboxReset(logger, aside, ex.Message);
            _db = Open(out _records, out _meta);
        }
    }

    private LiteDatabase Open(out ILiteCollection<OutboxRecord> records, out ILiteCollection<BsonDocument> meta)
    {
        var db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct });
        try
        {
            records = db.GetCollection<OutboxRecord>("outbox");
            meta = db.GetCollection<BsonDocument>("meta");
            _dropped = meta.FindById("dropped")?["value"].AsInt64 ?? 0;
            var newest = records.Query().OrderByDescending(r => r.Id).Limit(1).FirstOrDefault();
            _lastId = Math.Max(meta.FindById("id")?["value"].AsInt64 ?? 0, newest?.Id ?? 0);
            _depth = records.Count();
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    public string Path { get; }

    /// <summary>Raised after a record was added (the publisher wakes on it).</summary>
    public event EventHandler? Added;

    public long Dropped => Interlocked.Read(ref _dropped);

    public long Delivered => Interlocked.Read(ref _delivered);

    /// <summary>Records waiting (kept in memory: counting the collection on every call would scan it).</summary>
    public int Depth => Volatile.Read(ref _depth);

    /// <summary>Adds a record; <paramref name="payload"/> receives the record's sequence number.</summary>
    public long Enqueue(string kind, Func<long, string> payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        long seq;
        lock (_gate)
        {
            _db.BeginTrans();
            try
            {
                var key = "seq:" + kind;
                seq = (_meta.FindById(key)?["value"].AsInt64 ?? 0) + 1;
                _meta.Upsert(new BsonDocument { ["_id"] = key, ["value"] = seq });

                // Queue order comes from our own persisted counter, not LiteDB's auto-id: that one is cached per
                // collection and was seen to hand out a used id after deletes ("duplicate key in unique index '_id'").
                var id = _lastId + 1;
                _meta.Upsert(new BsonDocument { ["_id"] = "id", ["value"] = id });
                _records.Insert(new OutboxRecord { Id = id, Kind = kind, Seq = seq, Payload = payload(seq), Created = _time.GetUtcNow().UtcDateTime });
                var overflow = _depth + 1 - _maxRecords;
                if (overflow > 0)
                {
                    foreach (var old in _records.Query().OrderBy(r => r.Id).Limit(overflow).ToList())
                    {
                        _records.Delete(old.Id);
                    }

                    var dropped = Interlocked.Add(ref _dropped, overflow);
                    _meta.Upsert(new BsonDocument { ["_id"] = "dropped", ["value"] = dropped });
                    Log.OutboxDropped(_logger, overflow);
                }

                _db.Commit();
                _lastId = id;
                Volatile.Write(ref _depth, _depth + 1 - Math.Max(overflow, 0));
            }
            catch
            {
                _db.Rollback();
                throw;
            }
        }

        Added?.Invoke(this, EventArgs.Empty);
        return seq;
    }

    public IReadOnlyList<OutboxRecord> Peek(int max)
    {
        lock (_gate)
        {
            return _records.Query().OrderBy(r => r.Id).Limit(max).ToList();
        }
    }

    /// <summary>Removes a record the broker acknowledged.</summary>
    public void Acknowledge(long id)
    {
        lock (_gate)
        {
            if (_records.Delete(id))
            {
                Interlocked.Increment(ref _delivered);
                Volatile.Write(ref _depth, _depth - 1);
            }
        }
    }

    public void Dispose() => _db.Dispose();
}
