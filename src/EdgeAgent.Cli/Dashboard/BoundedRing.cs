namespace EdgeAgent.Cli.Dashboard;

/// <summary>The last <c>capacity</c> items added, oldest first. Not thread-safe: <see cref="DashboardState"/> locks around it.</summary>
internal sealed class BoundedRing<T>(int capacity)
{
    private readonly T[] _items = new T[capacity];
    private int _start;

    public int Count { get; private set; }

    public T? Last => Count == 0 ? default : _items[(_start + Count - 1) % _items.Length];

    public void Add(T item)
    {
        if (Count < _items.Length)
        {
            _items[(_start + Count) % _items.Length] = item;
            Count++;
        }
        else
        {
            _items[_start] = item;
            _start = (_start + 1) % _items.Length;
        }
    }

    public T[] ToArray()
    {
        var copy = new T[Count];
        for (var i = 0; i < Count; i++)
        {
            copy[i] = _items[(_start + i) % _items.Length];
        }

        return copy;
    }
}
