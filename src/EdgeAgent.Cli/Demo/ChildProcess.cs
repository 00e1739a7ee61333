using System.Diagnostics;

namespace EdgeAgent.Cli.Demo;

/// <summary>
/// A helper program the lifecycle demo runs beside itself (redis-server, a Celery worker, the drift bridge): output
/// goes to a log file, readiness is a line of that output, and disposing stops the program and its children.
/// </summary>
internal sealed class ChildProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _gate = new();
    private readonly Queue<string> _tail = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string? _readyText;
    private bool _closed;

    private ChildProcess(string name, Process process, string logPath, string? readyText)
    {
        Name = name;
        LogPath = logPath;
        _process = process;
        _readyText = readyText;
        _log = new StreamWriter(logPath, append: false) { AutoFlush = true };
    }

    public string Name { get; }

    public string LogPath { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts <paramref name="file"/>; <paramref name="readyText"/> (when given) is the output that says it is ready.</summary>
    public static ChildProcess Start(string name, string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string> environment, string logPath, string? readyText)
    {
        var start = new ProcessStartInfo(file, arguments)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var child = new ChildProcess(name, process, logPath, readyText);
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Exited += (_, _) => child._ready.TrySetException(new InvalidOperationException($"{name} exited with code {SafeExitCode(process)}: {child.Tail()}"));
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            child._log.Dispose();
            throw new InvalidOperationException($"cannot start {name} ({file}): {ex.Message}", ex);
        }

        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (readyText is null)
        {
            child._ready.TrySetResult();
        }

        return child;
    }

    /// <summary>Waits for the ready line; throws with the program's last output when it exits or the time runs out.</summary>
    public async Task WaitReadyAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await _ready.Task.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"{Name} was not ready within {timeout.TotalSeconds:0} s: {Tail()}");
        }
    }

    /// <summary>The last lines of output, joined (for error messages).</summary>
    public string Tail(int lines = 5)
    {
        lock (_gate)
        {
            return string.Join(" | ", _tail.Skip(Math.Max(0, _tail.Count - lines)));
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token);
        }
        catch (Exception ex) when (ex is InvalidOperationException or OperationCanceledException or System.ComponentModel.Win32Exception)
        {
            // Already gone, or will be reaped with us.
        }

        lock (_gate)
        {
            _closed = true;
            _log.Dispose();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _log.WriteLine(line);
            _tail.Enqueue(line);
            if (_tail.Count > 20)
            {
                _tail.Dequeue();
            }
        }

        if (_readyText is not null && line.Contains(_readyText, StringComparison.Ordinal))
        {
            _ready.TrySetResult();
        }
    }

    private static string SafeExitCode(Process process)
    {
        try
        {
            return process.ExitCode.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (InvalidOperationException)
        {
            return "?";
        }
    }
}
