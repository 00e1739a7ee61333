using System.Diagnostics;

namespace EdgeAgent.Agent.Tests.Infrastructure;

/// <summary>Waits on conditions, never on fixed sleeps.</summary>
public static class Wait
{
    public static readonly TimeSpan Default = TimeSpan.FromSeconds(30);

    public static async Task UntilAsync(Func<bool> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0}s waiting for {what}");
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    public static async Task UntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var stopwatch = Stopwatch.StartNew();
        while (!await condition())
        {
            if (stopwatch.Elapsed > timeout)
            {
                throw new TimeoutException($"timed out after {timeout.TotalSeconds:0}s waiting for {what}");
            }

            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }

    public static async Task<T> ForAsync<T>(Func<T?> probe, TimeSpan timeout, string what)
        where T : class
    {
        T? value = null;
        await UntilAsync(() => (value = probe()) is not null, timeout, what);
        return value!;
    }

    /// <summary>Polls an asynchronous probe until it returns a value.</summary>
    public static async Task<T> ForAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : class
    {
        T? value = null;
        await UntilAsync(async () => (value = await probe()) is not null, timeout, what);
        return value!;
    }

    /// <summary>Polls an asynchronous probe until it returns a value (value types).</summary>
    public static async Task<T> ForValueAsync<T>(Func<Task<T?>> probe, TimeSpan timeout, string what)
        where T : struct
    {
        T? value = null;
        await UntilAsync(async () => (value = await probe()) is not null, timeout, what);
        return value!.Value;
    }
}
