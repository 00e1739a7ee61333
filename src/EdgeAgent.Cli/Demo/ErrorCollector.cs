using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace EdgeAgent.Cli.Demo;

/// <summary>Keeps the agent's error log lines (and, optionally, all lines in a log file) while the live view owns the console.</summary>
internal sealed class ErrorCollector : ILoggerProvider
{
    private readonly ConcurrentQueue<string> _errors = new();
    private readonly StreamWriter? _file;
    private readonly Lock _fileGate = new();

    public ErrorCollector(string? logFile)
    {
        if (logFile is not null)
        {
            _file = new StreamWriter(logFile, append: false) { AutoFlush = true };
        }
    }

    public IReadOnlyCollection<string> Errors => _errors;

    public ILogger CreateLogger(string categoryName) => new Collector(this, categoryName);

    public void Dispose() => _file?.Dispose();

    private void Write(LogLevel level, string category, string message, Exception? exception)
    {
        if (level >= LogLevel.Error)
        {
            _errors.Enqueue($"{category.Split('.')[^1]}: {message}{(exception is null ? string.Empty : " " + exception.Message)}");
        }

        if (_file is not null)
        {
            lock (_fileGate)
            {
                _file.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {level,-11} {category}: {message}{(exception is null ? string.Empty : Environment.NewLine + exception)}");
            }
        }
    }

    private sealed class Collector(ErrorCollector owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Write(logLevel, category, formatter(state, exception), exception);
            }
        }
    }
}
