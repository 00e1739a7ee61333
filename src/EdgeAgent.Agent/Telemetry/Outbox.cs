using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeAgent.Agent.Json;
using EdgeAgent.Agent.Options;
using EdgeAgent.Core;
using LiteDB;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using JsonSerializer = System.Text.Json.JsonSerializer;

namespace EdgeAgent.Agent.Telemetry;

/// <summary>
/// Store-and-forward queue in a LiteDB file (<c>outbox.db</c>) for everything published on <c>metrics</c>, <c>events</c>
/// and <c>drift</c>. Every record gets the next value of one device-wide sequence (<c>seq</c>), written in the same
/// transaction as the record and the counter, so a value is never handed out twice: not after a restart, a crash or a
/// drop. A record leaves only when the broker acknowledged it (<see cref="Acknowledge"/>).
/// </summary>
/// <remarks>
/// Bounded by <c>Telemetry:OutboxMaxBytes</c> (payload bytes plus <see cref="RecordOverheadBytes"/> per record) and
/// <c>Telemetry:OutboxMaxRecords</c>: past either, the oldest records of the lowest <see cref="OutboxClass"/> that has any
/// are dropped (records the publisher has in flight are spared) and counted per class, persistently. Each class is its own
/// collection keyed by <c>seq</c>, so "oldest of a class" is the first entry of its primary index. LiteDB reuses the pages
/// of deleted records, so the file stops growing once it has held a full budget (shared/pitfalls.md: no Rebuild).
/// </remarks>
public sealed class Outbox : IDisposable
{
    /// <summary>What each record counts against the byte budget beyond its payload (document fields and index entry).</summary>
    public const int RecordOverheadBytes = 64;

    /// <summary>
    /// LiteDB checkpoint size in 8 KB pages: the write-ahead log (<c>outbox-log.db</c>) is copied into <c>outbox.db</c>
    /// and truncated once it holds this many pages. LiteDB's default (1000 pages, 8 MB) let the log and the page cache
    /// that mirrors it grow the agent's RSS by about 8 MB before the first checkpoint (issue 9, SoakTests); 200 pages
    /// bound that to 1.6 MB.
    /// </summary>
    public const int CheckpointPages = 200;

    private const string MetaId = "outbox";
    private static readonly TimeSpan DropLogInterval = TimeSpan.FromMinutes(1);

    private readonly LiteDatabase _db;
    private readonly ILiteCollection<BsonDocument>[] _queues = new ILiteCollection<BsonDocument>[OutboxClasses.Count];
    private readonly ILiteCollection<BsonDocument> _meta;
    private readonly Lock _gate = new();
    private readonly long _maxBytes;
    private readonly long _maxRecords;
    private readonly ILogger<Outbox> _logger;
    private readonly TimeProvider _time;
    private readonly long[] _unloggedDrops = new long[OutboxClasses.Count];
    private Tally _tally = new();
    private long _inFlightThrough;
    private DateTimeOffset _lastDropLog = DateTimeOffset.MinValue;

    public Outbox(IOptions<AgentOptions> agent, IOptions<TelemetryOptions> telemetry, ILogger<Outbox> logger, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(agent);
        ArgumentNullException.ThrowIfNull(telemetry);
        Directory.CreateDirectory(agent.Value.StateDirectory);
        Path = System.IO.Path.Combine(agent.Value.StateDirectory, "outbox.db");
        _maxBytes = telemetry.Value.OutboxMaxBytes;
        _maxRecords = telemetry.Value.OutboxMaxRecords;
        _logger = logger;
        _time = time;
        try
        {
            _db = Open(out _meta);
        }
        catch (Exception ex) when (File.Exists(Path) && ex is not (OutOfMemoryException or UnauthorizedAccessException))
        {
            // A damaged telemetry buffer (power cut, disk error) must not keep inference down: keep it aside, start empty.
            // Its records are not sent, and the sequence starts again at 1 (consumers see a device that lost its outbox).
            var aside = $"{Path}.corrupt-{time.GetUtcNow():yyyyMMddHHmmss}";
            File.Move(Path, aside, overwrite: true);
            Log.OutboxReset(logger, aside, ex.Message);
            _tally = new Tally();
            _db = Open(out _meta);
        }
    }

    public string Path { get; }

    /// <summary>Raised after records were added (the publisher wakes on it).</summary>
    public event EventHandler? Added;

    public long MaxBytes => _maxBytes;

    /// <summary>Records waiting.</summary>
    public long Depth
    {
        get
        {
            lock (_gate)
            {
                return _tally.TotalCount;
            }
        }
    }

    /// <summary>Bytes the waiting records count against <c>Telemetry:OutboxMaxBytes</c>.</summary>
    public long Bytes
    {
        get
        {
            lock (_gate)
            {
                return _tally.TotalBytes;
            }
        }
    }

    /// <summary>The last <c>seq</c> handed out (0 before the first record).</summary>
    public long LastSeq
    {
        get
        {
            lock (_gate)
            {
                return _tally.Seq;
            }
        }
    }

    public OutboxStatus Status()
    {
        lock (_gate)
        {
            var d = _tally.Dropped;
            return new OutboxStatus(
                _tally.TotalCount,
                _tally.TotalBytes,
                _maxBytes,
                new OutboxDrops(d[(int)OutboxClass.Alert], d[(int)OutboxClass.Event], d[(int)OutboxClass.Drift], d[(int)OutboxClass.Metrics]),
                _tally.Delivered,
                _tally.Seq);
        }
    }

    /// <summary>
    /// Queues one record for <c>{p}/devices/{id}/{<paramref name="topic"/>}</c>. <paramref name="record"/> gets the
    /// record's <c>seq</c> and returns the object to publish, which must carry it as <c>seq</c>; it is serialized with
    /// <see cref="CoreJson.Options"/>. Runs inside the outbox's transaction: keep it cheap and free of other locks.
    /// </summary>
    /// <returns>The record's <c>seq</c>.</returns>
    public long Enqueue<T>(OutboxClass priority, string topic, Func<long, T> record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return EnqueueUtf8(priority, topic, 1, (seq, _) => Serialize(record(seq)));
    }

    /// <summary>Queues one record per item in one transaction, with consecutive <c>seq</c> values (see <see cref="Enqueue{T}"/>).</summary>
    /// <returns>The first record's <c>seq</c> (0 when <paramref name="items"/> is empty).</returns>
    public long EnqueueMany<TItem, T>(OutboxClass priority, string topic, IReadOnlyList<TItem> items, Func<long, TItem, T> record)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(record);
        return items.Count == 0 ? 0 : EnqueueUtf8(priority, topic, items.Count, (seq, i) => Serialize(record(seq, items[i])));
    }

    /// <summary>
    /// Queues <paramref name="count"/> records in one transaction; <paramref name="payload"/> gets each record's <c>seq</c>
    /// and index and returns its UTF-8 JSON object, which must carry that <c>seq</c>.
    /// </summary>
    /// <returns>The first record's <c>seq</c>.</returns>
    public long EnqueueUtf8(OutboxClass priority, string topic, int count, Func<long, int, byte[]> payload)
    {
        ArgumentNullException.ThrowIfNull(payload);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        if ((uint)priority >= OutboxClasses.Count)
        {
            throw new ArgumentOutOfRangeException(nameof(priority), priority, "not an outbox class");
        }

        if (string.IsNullOrEmpty(topic) || topic.AsSpan().IndexOfAny("/+#") >= 0)
        {
            throw new ArgumentException($"'{topic}' is not a topic leaf such as metrics, events or drift", nameof(topic));
        }

        var c = (int)priority;
        long first;
        var tooLarge = 0;
        long[] dropped;
        lock (_gate)
        {
            var before = _tally.Clone();
            _db.BeginTrans();
            try
            {
                first = _tally.Seq + 1;
                var now = _time.GetUtcNow().UtcDateTime;
                var docs = new List<BsonDocument>(count);
                for (var i = 0; i < count; i++)
                {
                    var seq = ++_tally.Seq;
                    var bytes = payload(seq, i);
                    var size = bytes.Length + RecordOverheadBytes;
                    if (size > _maxBytes)
                    {
                        // Could never fit: dropped (and counted) at once; its seq stays used, the consumer sees the gap.
                        _tally.Dropped[c]++;
                        tooLarge++;
                        continue;
                    }

                    docs.Add(new BsonDocument { ["_id"] = seq, ["t"] = topic, ["n"] = size, ["at"] = now, ["p"] = bytes });
                    _tally.Count[c]++;
                    _tally.Bytes[c] += size;
                }

                if (docs.Count > 0)
                {
                    _queues[c].Insert(docs);
                }

                dropped = Trim();
                if (tooLarge > 0)
                {
                    dropped[c] += tooLarge;
                }

                _meta.Upsert(_tally.ToBson());
                _db.Commit();
            }
            catch
            {
                _db.Rollback();
                _tally = before;
                throw;
            }

            LogDrops(dropped, tooLarge, priority, topic);
        }

        Added?.Invoke(this, EventArgs.Empty);
        return first;
    }

    /// <summary>
    /// Hands the publisher its next batch: the oldest records not yet taken, in <c>seq</c> order across classes, all with
    /// the topic of the first, at most <paramref name="maxRecords"/> and <paramref name="maxBytes"/> of payload (but at least
    /// one record). Taken records stay until <see cref="Acknowledge"/>; <see cref="Rewind"/> offers them again.
    /// </summary>
    public IReadOnlyList<OutboxRecord> Take(int maxRecords, int maxBytes)
    {
        lock (_gate)
        {
            var heads = new List<(OutboxClass Priority, List<BsonDocument> Docs)>(OutboxClasses.Count);
            for (var c = 0; c < OutboxClasses.Count; c++)
            {
                if (_tally.Count[c] > 0)
                {
                    // Enough of this class's records to fill a batch on their own, judged by their mean size.
                    var mean = Math.Max((_tally.Bytes[c] / _tally.Count[c]) - RecordOverheadBytes, 1);
                    var docs = Oldest(c, _inFlightThrough, (int)Math.Clamp((maxBytes / mean) + 1, 1, maxRecords));
                    if (docs.Count > 0)
                    {
                        heads.Add(((OutboxClass)c, docs));
                    }
                }
            }

            var batch = new List<OutboxRecord>();
            var positions = new int[heads.Count];
            var bytes = 0L;
            string? topic = null;
            while (batch.Count < maxRecords)
            {
                // The oldest head across classes.
                var pick = -1;
                for (var h = 0; h < heads.Count; h++)
                {
                    if (positions[h] < heads[h].Docs.Count && (pick < 0 || heads[h].Docs[positions[h]]["_id"].AsInt64 < heads[pick].Docs[positions[pick]]["_id"].AsInt64))
                    {
                        pick = h;
                    }
                }

                if (pick < 0)
                {
                    break;
                }

                var doc = heads[pick].Docs[positions[pick]];
                var payload = doc["p"].AsBinary;
                var leaf = doc["t"].AsString;
                if (topic is not null && (leaf != topic || bytes + payload.Length > maxBytes))
                {
                    break;
                }

                topic = leaf;
                bytes += payload.Length;
                batch.Add(new OutboxRecord(doc["_id"].AsInt64, heads[pick].Priority, leaf, payload));
                positions[pick]++;
            }

            if (batch.Count > 0)
            {
                _inFlightThrough = batch[^1].Seq;
            }

            return batch;
        }
    }

    /// <summary>Offers the records taken and not acknowledged again (the publisher lost its connection or a publish failed).</summary>
    public void Rewind()
    {
        lock (_gate)
        {
            _inFlightThrough = 0;
        }
    }

    /// <summary>Removes records the broker acknowledged (one transaction).</summary>
    public void Acknowledge(IReadOnlyList<OutboxRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        lock (_gate)
        {
            var before = _tally.Clone();
            _db.BeginTrans();
            try
            {
                foreach (var record in records)
                {
                    var c = (int)record.Priority;
                    if (_queues[c].Delete(record.Seq))
                    {
                        _tally.Count[c]--;
                        _tally.Bytes[c] -= record.Payload.Length + RecordOverheadBytes;
                        _tally.Delivered++;
                    }
                }

                _meta.Upsert(_tally.ToBson());
                _db.Commit();
            }
            catch
            {
                _db.Rollback();
                _tally = before;
                throw;
            }
        }
    }

    public void Dispose() => _db.Dispose();

    private static byte[] Serialize<T>(T record) => JsonSerializer.SerializeToUtf8Bytes(record, AgentJson.Info<T>());

    private LiteDatabase Open(out ILiteCollection<BsonDocument> meta)
    {
        var db = new LiteDatabase(new ConnectionString { Filename = Path, Connection = ConnectionType.Direct });
        try
        {
            if (db.CheckpointSize != CheckpointPages)
            {
                db.CheckpointSize = CheckpointPages;
            }

            meta = db.GetCollection("meta");
            for (var c = 0; c < OutboxClasses.Count; c++)
            {
                _queues[c] = db.GetCollection("q_" + OutboxClasses.Name((OutboxClass)c));
            }

            _tally = Tally.FromBson(meta.FindById(MetaId));
            for (var c = 0; c < OutboxClasses.Count; c++)
            {
                var count = _queues[c].Count();
                if (count != _tally.Count[c])
                {
                    // Never expected (the tally is written in every transaction), but cheap to repair: recount this class.
                    _tally.Count[c] = count;
                    _tally.Bytes[c] = _queues[c].FindAll().Sum(d => (long)d["n"].AsInt32);
                }

                var newest = _queues[c].Query().OrderByDescending("_id").Limit(1).FirstOrDefault();
                if (newest is not null)
                {
                    _tally.Seq = Math.Max(_tally.Seq, newest["_id"].AsInt64);
                }
            }

            MigrateLegacy(db, meta);
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An outbox written by an agent before the device-wide sequence (one collection <c>outbox</c>, a sequence per kind):
    /// its records are queued again with new <c>seq</c> values after the highest it ever handed out, so a consumer that
    /// de-duplicates on <c>seq</c> does not take them (or later records) for ones it has seen.
    /// </summary>
    private void MigrateLegacy(LiteDatabase db, ILiteCollection<BsonDocument> meta)
    {
        if (!db.CollectionExists("outbox"))
        {
            return;
        }

        var legacy = db.GetCollection("outbox");
        var highest = meta.Find(Query.StartsWith("_id", "seq:")).Select(d => d["value"].AsInt64).DefaultIfEmpty(0).Max();
        var legacyDropped = meta.FindById("dropped")?["value"].AsInt64 ?? 0;
        var before = _tally.Clone();
        db.BeginTrans();
        try
        {
            _tally.Seq = Math.Max(_tally.Seq, highest);
            var first = _tally.Seq + 1;
            var moved = 0;
            foreach (var old in legacy.Query().OrderBy("_id").ToEnumerable())
            {
                var kind = old["Kind"].AsString;
                var priority = kind == EventLog.Kind ? OutboxClass.Event : OutboxClass.Metrics;
                var seq = ++_tally.Seq;
                byte[] payload;
                try
                {
                    var node = JsonNode.Parse(old["Payload"].AsString) as JsonObject ?? throw new JsonException("not an object");
                    node["seq"] = seq;
                    payload = JsonSerializer.SerializeToUtf8Bytes(node, AgentJson.Info<JsonObject>());
                }
                catch (JsonException)
                {
                    _tally.Dropped[(int)priority]++;
                    continue;
                }

                var size = payload.Length + RecordOverheadBytes;
                _queues[(int)priority].Insert(new BsonDocument { ["_id"] = seq, ["t"] = kind, ["n"] = size, ["at"] = old["Created"], ["p"] = payload });
                _tally.Count[(int)priority]++;
                _tally.Bytes[(int)priority] += size;
                moved++;
            }

            // The old format had one drop counter; its drops were almost all metrics windows.
            _tally.Dropped[(int)OutboxClass.Metrics] += legacyDropped;
            Trim();
            meta.DeleteMany(Query.Not("_id", MetaId));
            meta.Upsert(_tally.ToBson());
            legacy.DeleteAll();
            db.Commit();
            Log.OutboxMigrated(_logger, moved, first);
        }
        catch
        {
            db.Rollback();
            _tally = before;
            throw;
        }

        // Not inside the transaction (LiteDB does not drop a collection in one); emptied above, so a crash in between
        // leaves an empty collection that the next start drops.
        db.DropCollection("outbox");
    }

    /// <summary>Drops the oldest records of the lowest classes until the outbox is within its bounds; returns the drops per class.</summary>
    private long[] Trim()
    {
        var dropped = new long[OutboxClasses.Count];
        for (var c = 0; c < OutboxClasses.Count && Over(); c++)
        {
            while (Over() && _tally.Count[c] > 0)
            {
                // Records in flight are the oldest; they are spared, so the drop counts stay exact even if they arrive.
                var excess = Math.Max(_tally.TotalBytes - _maxBytes, 0);
                var guess = (int)Math.Clamp((excess / Math.Max(_tally.Bytes[c] / _tally.Count[c], 1)) + 1, 1, 256);
                var victims = Oldest(c, _inFlightThrough, guess);
                if (victims.Count == 0)
                {
                    break;
                }

                foreach (var victim in victims)
                {
                    _queues[c].Delete(victim["_id"]);
                    _tally.Count[c]--;
                    _tally.Bytes[c] -= victim["n"].AsInt32;
                    _tally.Dropped[c]++;
                    dropped[c]++;
                    if (!Over())
                    {
                        break;
                    }
                }
            }
        }

        return dropped;
    }

    private bool Over() => _tally.TotalBytes > _maxBytes || _tally.TotalCount > _maxRecords;

    // A parameter, not Query.GT("_id", after): that writes the value into the expression's text ("$._id>412"), and LiteDB
    // parses, compiles (JIT) and caches every distinct text for the life of the process — one new compiled expression per
    // drain, which grew the agent's RSS by ~7 MB an hour in the 1-hour soak (issue 9).
    private List<BsonDocument> Oldest(int c, long after, int limit) =>
        _queues[c].Query().Where(BsonExpression.Create("_id > @0", new BsonValue(after))).OrderBy("_id").Limit(limit).ToList();

    private void LogDrops(long[] dropped, int tooLarge, OutboxClass priority, string topic)
    {
        if (tooLarge > 0)
        {
            Log.OutboxRecordTooLarge(_logger, OutboxClasses.Name(priority), topic, _maxBytes);
        }

        var any = false;
        for (var c = 0; c < dropped.Length; c++)
        {
            _unloggedDrops[c] += dropped[c];
            any |= _unloggedDrops[c] > 0;
        }

        var now = _time.GetUtcNow();
        if (!any || now - _lastDropLog < DropLogInterval)
        {
            return;
        }

        // At most one line a minute while the outbox overflows (every window would otherwise log one).
        _lastDropLog = now;
        Log.OutboxDropped(
            _logger,
            _maxBytes,
            _unloggedDrops[(int)OutboxClass.Alert],
            _unloggedDrops[(int)OutboxClass.Event],
            _unloggedDrops[(int)OutboxClass.Drift],
            _unloggedDrops[(int)OutboxClass.Metrics]);
        Array.Clear(_unloggedDrops);
    }

    /// <summary>The persisted counters, written in every transaction that changes the queues.</summary>
    private sealed class Tally
    {
        public long Seq;
        public long Delivered;
        public long[] Count = new long[OutboxClasses.Count];
        public long[] Bytes = new long[OutboxClasses.Count];
        public long[] Dropped = new long[OutboxClasses.Count];

        public long TotalCount => Count[0] + Count[1] + Count[2] + Count[3];

        public long TotalBytes => Bytes[0] + Bytes[1] + Bytes[2] + Bytes[3];

        public Tally Clone() => new()
        {
            Seq = Seq,
            Delivered = Delivered,
            Count = (long[])Count.Clone(),
            Bytes = (long[])Bytes.Clone(),
            Dropped = (long[])Dropped.Clone(),
        };

        public BsonDocument ToBson() => new()
        {
            ["_id"] = MetaId,
            ["seq"] = Seq,
            ["delivered"] = Delivered,
            ["count"] = Array(Count),
            ["bytes"] = Array(Bytes),
            ["dropped"] = Array(Dropped),
        };

        public static Tally FromBson(BsonDocument? doc)
        {
            var tally = new Tally();
            if (doc is null)
            {
                return tally;
            }

            tally.Seq = doc["seq"].AsInt64;
            tally.Delivered = doc["delivered"].AsInt64;
            Read(doc["count"], tally.Count);
            Read(doc["bytes"], tally.Bytes);
            Read(doc["dropped"], tally.Dropped);
            return tally;
        }

        private static BsonArray Array(long[] values) => new(values.Select(v => new BsonValue(v)));

        private static void Read(BsonValue value, long[] into)
        {
            if (value.IsArray)
            {
                for (var i = 0; i < into.Length && i < value.AsArray.Count; i++)
                {
                    into[i] = value.AsArray[i].AsInt64;
                }
            }
        }
    }
}
