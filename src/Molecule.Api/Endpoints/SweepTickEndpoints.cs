using Microsoft.AspNetCore.Http.HttpResults;
using Molecule.Api.Contract;
using Molecule.Api.Hosting;
using Molecule.Api.Http;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Api.Endpoints;

/// <summary>
/// Role <c>sweeps</c>: <c>POST /internal/sweeps/orphans</c> and <c>/internal/sweeps/reconcile</c> each run one tick of
/// their sweep and answer 200 with the tick's figures — the fields of its metrics line — or 409 <c>SWEEP_RUNNING</c>
/// when a tick of the same sweep runs in this process or, holding the sweep's advisory lock, in another.
/// The body is whatever the scheduler sends and is not read. A tick that failed still answers 200 with
/// <c>tick_failed = 1</c> and its error: the schedule never retries (a failed tick is just the next tick), and the
/// metric is what an alarm watches.
/// </summary>
public static class SweepTickEndpoints
{
    /// <summary>The count a tick reports as 1 when it did not run because another process held the sweep's lock.</summary>
    private const string SkippedCount = "skipped";

    public static Task<Results<Ok<SweepTickAnswer>, ProblemResult>> OrphansAsync(OrphanSweeper sweep, OnDemandSweepTicks ticks, IHostApplicationLifetime lifetime) =>
        TickAsync(sweep, ticks, lifetime.ApplicationStopping);

    public static Task<Results<Ok<SweepTickAnswer>, ProblemResult>> ReconcileAsync(InstanceReconciler sweep, OnDemandSweepTicks ticks, IHostApplicationLifetime lifetime) =>
        TickAsync(sweep, ticks, lifetime.ApplicationStopping);

    private static async Task<Results<Ok<SweepTickAnswer>, ProblemResult>> TickAsync(ISweep sweep, OnDemandSweepTicks ticks, CancellationToken stopping)
    {
        // the tick belongs to the schedule, not to the caller: a dropped connection does not cut it short
        var tick = await ticks.TryRunAsync(sweep, stopping);
        if (tick is null)
        {
            return SweepRunning(sweep.Name, "A tick of this sweep is already running.");
        }

        if (tick.Result?[SkippedCount] == 1)
        {
            // another process (a manual invoke beside the schedule, a local replica) holds this sweep's lock
            return SweepRunning(sweep.Name, "A tick of this sweep is running in another process.");
        }

        return TypedResults.Ok(Answer(tick));
    }

    /// <summary>The tick's figures under the names of its metrics line (see <see cref="SweepMetricsSink"/>).</summary>
    public static SweepTickAnswer Answer(SweepTick tick)
    {
        var counts = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var count in tick.Result?.Counts ?? [])
        {
            counts[count.Name] = count.Value;
        }

        return new SweepTickAnswer
        {
            Sweep = tick.Sweep,
            Counts = counts,
            BudgetExhausted = tick.BudgetExhausted ? 1 : 0,
            TickFailed = tick.Failed ? 1 : 0,
            DurationMs = Math.Round(tick.Duration.TotalMilliseconds, 3),
            Error = tick.Error,
            ItemErrors = tick.Result?.Errors ?? [],
        };
    }

    private static ProblemResult SweepRunning(string sweep, string title) => new(ProblemCodes.SweepRunning.Status, new SweepRunningProblem
    {
        Error = ProblemCodes.SweepRunning.Error,
        Title = title,
        Status = ProblemCodes.SweepRunning.Status,
        Sweep = sweep,
    });
}
