using System.Collections.Concurrent;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Api.Hosting;

/// <summary>
/// Runs exactly one tick of a sweep when asked (role <c>sweeps</c>: an EventBridge schedule → the Lambda Web Adapter →
/// <c>POST /internal/sweeps/...</c>), with the budget, supervision and metrics line of a timer tick
/// (<see cref="SweepScheduler.RunTickAsync"/>). A second tick of the same sweep while one runs in this process is
/// refused rather than queued: the schedule comes again in a minute, and two ticks at once would only contend for the
/// same rows. (Across processes the sweeps' own locking and the function's reserved concurrency of 1 keep ticks apart.)
/// </summary>
public sealed class OnDemandSweepTicks(SweepOptions options, SweepMetricsSink metrics, TimeProvider time, ILoggerFactory loggers)
{
    private readonly ConcurrentDictionary<string, SemaphoreSlim> running = new(StringComparer.Ordinal);

    /// <summary>The tick as it ended, or null when a tick of the same sweep is still running here.</summary>
    public async Task<SweepTick?> TryRunAsync(ISweep sweep, CancellationToken stoppingToken)
    {
        var gate = running.GetOrAdd(sweep.Name, _ => new SemaphoreSlim(1, 1));
        if (!gate.Wait(0, CancellationToken.None))
        {
            return null;
        }

        try
        {
            var scheduler = new SweepScheduler(sweep, options, metrics, time, loggers.CreateLogger<SweepScheduler>());
            return await scheduler.RunTickAsync(stoppingToken);
        }
        finally
        {
            gate.Release();
        }
    }
}
