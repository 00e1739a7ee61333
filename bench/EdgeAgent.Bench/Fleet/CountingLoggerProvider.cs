using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Bench.Fleet;

/// <summary>One logger provider for all simulated agents: counts warnings and errors and keeps the last few error lines (no console thread per agent).</summary>
public sealed class CountingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _last = new();
    private int _warnings;
    private int _errors;

    public int Warnings => Volatile.Read(ref _warnings);

    public int Errors => Volatile.Read(ref _errors);

    public IReadOnlyList<string> Last() => [.. _last];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private void Add(LogLevel level, string category, string message)
    {
        if (level >= LogLevel.Error)
        {
            Interlocked.Increment(ref _errors);
        }
        else
        {
            Interlocked.Increment(ref _warnings);
        }

        _last.Enqueue($"{level} {category}: {message}");
        while (_last.Count > 20 && _last.TryDequeue(out _))
        {
        }
    }

    private sealed class Logger(CountingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Add(logLevel, category, formatter(state, exception) + (exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})"));
            }
        }
    }
}
