using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// What the sweep benchmarks (<see cref="ReconcileBench"/>, <see cref="OrphanSweepBench"/>) share: one sim provider
/// watched by a <see cref="WatchedProvider"/>, the sweep run tick by tick through the scheduler's real tick, one line
/// per tick, and how their lines write seconds, ticks and counts.
/// </summary>
internal static class SweepBench
{
    public const string Provider = "sim-east";
    public const string Deployment = "bench";

    /// <summary>The sim provider, answering each call after <paramref name="latencyMs"/>, and the watch on it that the sweep is given.</summary>
    public static (SimProvider Sim, WatchedProvider Watched) SimProvider(NpgsqlDataSource db, int latencyMs, TimeProvider time)
    {
        var sim = new SimProvider(Provider, new SimProviderOptions { LatencyMs = latencyMs, BootSeconds = 0, DescribeLagSeconds = 0 }, Deployment, db, time);
        return (sim, new WatchedProvider(sim));
    }

    /// <summary>The scheduler's real tick (its budget included) around <paramref name="sweep"/>; its metrics lines go nowhere.</summary>
    public static SweepScheduler Scheduler(ISweep sweep, SweepOptions options, TimeProvider time) =>
        new(sweep, options, new SweepMetricsSink(TextWriter.Null, time, new DeploymentIdentity(Deployment)), time, NullLogger<SweepScheduler>.Instance);

    /// <summary>
    /// Runs <paramref name="ticks"/> ticks back to back and writes one line each. After a tick, <paramref name="describe"/>
    /// gets its number, what the sweep saw of the provider in it, and the sim's calls of a kind made in it, and returns
    /// what the line says after the tick's duration. Returns the longest tick.
    /// </summary>
    public static async Task<TimeSpan> RunTicksAsync(SweepScheduler scheduler, SimProvider sim, WatchedProvider watched, int ticks,
        Func<int, (IReadOnlyCollection<string> Described, IReadOnlyCollection<string> Listed), Func<SimCall, int>, Task<string>> describe, CancellationToken ct)
    {
        var maxTick = TimeSpan.Zero;
        for (var tick = 1; tick <= ticks; tick++)
        {
            var callsBefore = Enum.GetValues<SimCall>().ToDictionary(call => call, sim.Calls.Count);
            var result = await scheduler.RunTickAsync(ct);
            var seen = watched.NextTick();
            maxTick = result.Duration > maxTick ? result.Duration : maxTick;
            var line = await describe(tick, seen, call => sim.Calls.Count(call) - callsBefore[call]);
            Console.WriteLine($"  tick {tick}: {Seconds(result.Duration)} s, {line}" +
                (result.BudgetExhausted ? ", budget ran out" : "") + (result.Error is { } e ? $" ({e})" : ""));
        }

        return maxTick;
    }

    public static async Task<long> CountAsync(NpgsqlDataSource db, string sql, CancellationToken ct, params NpgsqlParameter[] parameters)
    {
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddRange(parameters);
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    public static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);

    /// <summary>The tick by which all of <paramref name="expected"/> was done; "-" when none was expected, "none" when not within the ticks run.</summary>
    public static string TickOf(int expected, int? tick) => expected == 0 ? "-" : tick?.ToString(CultureInfo.InvariantCulture) ?? "none";
}
