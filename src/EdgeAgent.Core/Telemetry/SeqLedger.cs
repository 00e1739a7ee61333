namespace EdgeAgent.Core.Telemetry;

/// <summary>
/// What a consumer of one device's outbox topics keeps to de-duplicate and find gaps: the set of <c>seq</c> values seen,
/// as ranges. Delivery is at-least-once and batches may arrive out of order around a reconnect, so a record is new when
/// its <c>seq</c> was not seen before, and a gap is a range below the highest <c>seq</c> that has not arrived (yet).
/// </summary>
public sealed class SeqLedger
{
    // Disjoint, non-adjacent ranges [From, To], ascending. Few in practice: gaps are rare.
    private readonly List<(long From, long To)> _ranges = [];

    public long Distinct { get; private set; }

    public long Duplicates { get; private set; }

    public long Highest => _ranges.Count == 0 ? 0 : _ranges[^1].To;

    /// <summary>Records <paramref name="seq"/>; true when it is new, false for a duplicate (drop it).</summary>
    public bool Add(long seq)
    {
        var i = _ranges.Count;
        while (i > 0 && _ranges[i - 1].From > seq)
        {
            i--;
        }

        // _ranges[i - 1] (if any) starts at or below seq.
        if (i > 0 && seq <= _ranges[i - 1].To)
        {
            Duplicates++;
            return false;
        }

        var joinsLeft = i > 0 && _ranges[i - 1].To == seq - 1;
        var joinsRight = i < _ranges.Count && _ranges[i].From == seq + 1;
        if (joinsLeft && joinsRight)
        {
            _ranges[i - 1] = (_ranges[i - 1].From, _ranges[i].To);
            _ranges.RemoveAt(i);
        }
        else if (joinsLeft)
        {
            _ranges[i - 1] = (_ranges[i - 1].From, seq);
        }
        else if (joinsRight)
        {
            _ranges[i] = (seq, _ranges[i].To);
        }
        else
        {
            _ranges.Insert(i, (seq, seq));
        }

        Distinct++;
        return true;
    }

    /// <summary>Missing ranges between <paramref name="from"/> (e.g. 1) and the highest <c>seq</c> seen.</summary>
    public IReadOnlyList<(long From, long To)> Gaps(long from = 1)
    {
        var gaps = new List<(long From, long To)>();
        var next = from;
        foreach (var (start, end) in _ranges)
        {
            if (start > next)
            {
                gaps.Add((next, start - 1));
            }

            next = Math.Max(next, end + 1);
        }

        return gaps;
    }
}
