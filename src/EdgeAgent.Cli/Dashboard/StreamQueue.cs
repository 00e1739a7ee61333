using System.Threading.Channels;

namespace EdgeAgent.Cli.Dashboard;

/// <summary>
/// The events waiting for one SSE client, at most <c>capacity</c>. A client that falls further behind (a slow or
/// sleeping browser) loses them all and gets a fresh snapshot instead (<see cref="TakeOverflow"/>), so memory stays
/// bounded whatever the clients do. One writer side (<see cref="Post"/>, never blocks) and one reader.
/// </summary>
internal sealed class StreamQueue(int capacity)
{
    private readonly Channel<DashboardEvent> _queue = Channel.CreateBounded<DashboardEvent>(new BoundedChannelOptions(capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private int _overflowed;

    public void Post(DashboardEvent e)
    {
        if (!_queue.Writer.TryWrite(e))
        {
            Interlocked.Exchange(ref _overflowed, 1);
        }
    }

    /// <summary>Until an event is waiting (or the queue overflowed, which leaves it full).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _queue.Reader.WaitToReadAsync(cancellationToken);

    /// <summary>True once after an event did not fit: the queue is emptied, and the client needs a fresh snapshot.</summary>
    public bool TakeOverflow()
    {
        if (Interlocked.Exchange(ref _overflowed, 0) == 0)
        {
            return false;
        }

        while (_queue.Reader.TryRead(out _))
        {
            // Dropped: the snapshot the client gets instead holds their effect.
        }

        return true;
    }

    public bool TryRead(out DashboardEvent e) => _queue.Reader.TryRead(out e!);
}
