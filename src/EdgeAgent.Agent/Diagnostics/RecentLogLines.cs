using System.Globalization;
using System.Text;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Agent.Diagnostics;

/// <summary>
/// A logger provider that keeps the agent's last <see cref="Capacity"/> log lines in memory (a ring), for the support
/// bundle: what the agent logged recently, without access to the journal. It sees what the logging filters let through
/// (Information and above by default). A line holds at most <see cref="MaxLineChars"/> characters.
/// </summary>
public sealed class RecentLogLines : ILoggerProvider
{
    public const int DefaultCapacity = 2000;
    public const int MaxLineChars = 8192;

    private const string Truncated = " ...(truncated)";

    private readonly string?[] _lines;
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _written;

    public RecentLogLines(TimeProvider time, int capacity = DefaultCapacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _lines = new string?[capacity];
    }

    public int Capacity => _lines.Length;

    /// <summary>Lines written since start (more than <see cref="Capacity"/> means the oldest were overwritten).</summary>
    public long Written => Interlocked.Read(ref _written);

    /// <summary>The kept lines, oldest first.</summary>
    public IReadOnlyList<string> Snapshot()
    {
        lock (_gate)
        {
            var count = (int)Math.Min(_written, _lines.Length);
            var result = new List<string>(count);
            for (var i = _written - count; i < _written; i++)
            {
                result.Add(_lines[i % _lines.Length]!);
            }

            return result;
        }
    }

    public ILogger CreateLogger(string categoryName) => new RingLogger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(string line)
    {
        if (line.Length > MaxLineChars)
        {
            line = string.Concat(line.AsSpan(0, MaxLineChars - Truncated.Length), Truncated);
        }

        lock (_gate)
        {
            _lines[_written % _lines.Length] = line;
            _written++;
        }
    }

    private static string LevelText(LogLevel level) => level switch
    {
        LogLevel.Trace => "trce",
        LogLevel.Debug => "dbug",
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => "none",
    };

    private sealed class RingLogger(RecentLogLines owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            ArgumentNullException.ThrowIfNull(formatter);
            var line = new StringBuilder(128)
                .Append(owner._time.GetUtcNow().ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture))
                .Append(' ').Append(LevelText(logLevel))
                .Append(' ').Append(category)
                .Append('[').Append(eventId.Id.ToString(CultureInfo.InvariantCulture)).Append("] ")
                .Append(formatter(state, exception));
            if (exception is not null)
            {
                line.Append('\n').Append(exception);
            }

            owner.Add(line.ToString());
        }
    }
}
