using Microsoft.Extensions.Logging;

namespace Molecule.Workspaces.Sweeps;

/// <summary>
/// Runs one sweep on its cadence: a tick at start, then one every <see cref="SweepOptions.Interval"/> measured from
/// the start of the previous tick. Ticks never overlap: a tick that overruns its interval delays the next one to the
/// moment it ends, and the slots it overlapped are dropped, never run back to back to catch up. Each tick is cancelled
/// when its budget (a share of the interval) runs out, and is supervised: a sweep that throws is logged and counted in
/// its metrics line, and the next tick runs on time. All waiting is on the <see cref="TimeProvider"/>.
/// </summary>
public sealed class SweepScheduler(
    ISweep sweep,
    SweepOptions options,
    SweepMetricsSink metrics,
    TimeProvider time,
    ILogger<SweepScheduler> logger)
{
    public string SweepName => sweep.Name;

    /// <summary>Ticks until <paramref name="stoppingToken"/> fires; returns then, without reporting the cut tick.</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (true)
            {
                var started = time.GetTimestamp();
                await RunTickAsync(stoppingToken);
                var took = time.GetElapsedTime(started);
                if (took >= options.Interval)
                {
                    // the slot is already past: start now rather than wait a whole extra interval, but only once
                    logger.LogWarning("sweep {sweep} tick took {took}, longer than its {interval} interval; the next tick starts now",
                        sweep.Name, took, options.Interval);
                    stoppingToken.ThrowIfCancellationRequested();
                    continue;
                }

                await Task.Delay(options.Interval - took, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // the host is stopping
        }
    }

    /// <summary>
    /// One supervised tick under its budget, then its metrics line. Never throws for the sweep's own failures; throws
    /// <see cref="OperationCanceledException"/> only when <paramref name="stoppingToken"/> fires.
    /// </summary>
    public async Task<SweepTick> RunTickAsync(CancellationToken stoppingToken)
    {
        var started = time.GetTimestamp();
        using var budget = new CancellationTokenSource(options.TickBudget, time);
        using var tickToken = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, budget.Token);
        SweepTick tick;
        try
        {
            var result = await sweep.RunOnceAsync(tickToken.Token);
            tick = new SweepTick(sweep.Name, result, time.GetElapsedTime(started), result.BudgetExhausted, null);
            if (result.BudgetExhausted)
            {
                logger.LogWarning("sweep {sweep} ran out of its {budget} budget; the next tick continues", sweep.Name, options.TickBudget);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (budget.IsCancellationRequested)
        {
            // the sweep let the cancellation escape instead of returning what it did; its finished work is kept anyway
            tick = new SweepTick(sweep.Name, null, time.GetElapsedTime(started), BudgetExhausted: true, "the tick's budget ran out");
            logger.LogWarning("sweep {sweep} was cancelled by its {budget} budget; the next tick continues", sweep.Name, options.TickBudget);
        }
        catch (Exception ex)
        {
            tick = new SweepTick(sweep.Name, null, time.GetElapsedTime(started), BudgetExhausted: false, ex.Message);
            logger.LogError(ex, "sweep {sweep} failed; the next tick runs on schedule", sweep.Name);
        }

        metrics.Write(tick);
        return tick;
    }
}

/// <summary>
/// One tick as it ended: the sweep's result (null when it threw or was cut without one), how long it took, whether its
/// budget ran out, and the error that ended it, if any.
/// </summary>
public sealed record SweepTick(string Sweep, SweepResult? Result, TimeSpan Duration, bool BudgetExhausted, string? Error)
{
    public bool Failed => Error is not null && !BudgetExhausted;
}
