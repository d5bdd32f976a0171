using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// <c>reconcile --rows N --latency-ms L --dead D --ticks T</c>: the instance reconciler over N online workspaces on one
/// sim provider that answers each describe call (up to 1000 ids) after L ms, with D of the boxes killed before the
/// first tick. Runs T ticks back to back, each through the scheduler's real tick (its budget: 48 s at the default
/// interval), and ends with one line:
/// <c>RESULT rows=N latency_ms=L dead=D ticks=T max_tick_s=… checked_per_tick=… full_pass_ticks=… marked_offline=… all_dead_marked_by_tick=…</c>
/// (checked: distinct rows described in the tick; full_pass_ticks: the tick by which every row had been described;
/// "none" when that did not happen within T ticks).
/// </summary>
public static class ReconcileBench
{
    public static BenchCommand Command { get; } = new("reconcile",
        "--rows N [--latency-ms 50] [--dead 0] [--ticks 3] [--keep-database]", RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("rows", "latency-ms", "dead", "ticks", "keep-database");
        var rows = args.Int("rows", min: 1);
        var latencyMs = args.Int("latency-ms", 50);
        var dead = args.Int("dead", 0);
        var tickCount = args.Int("ticks", 3, min: 1);
        if (dead > rows)
        {
            throw new BenchUsageException("--dead cannot exceed --rows");
        }

        var time = TimeProvider.System;
        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var db = database.DataSource;
        var (sim, watched) = SweepBench.SimProvider(db, latencyMs, time);
        var stack = new BenchStack(db, SweepBench.Deployment, new OperationOptions(), sim);
        var options = new SweepOptions();
        var reconciler = new InstanceReconciler(db, new ProviderRegistry([watched], SweepBench.Provider), stack.Starter, new OperationCompensation(stack.Context),
            stack.Context.Events, stack.Runner, ReconcilerSettings.From(options), time, NullLogger<InstanceReconciler>.Instance);
        var scheduler = SweepBench.Scheduler(reconciler, options, time);

        Console.WriteLine($"reconcile: {rows:N0} online workspaces on one sim provider, {latencyMs} ms per describe call, {dead} boxes killed, " +
            $"{tickCount} ticks of at most {options.TickBudget.TotalSeconds:F0} s (database {database.Name})");
        var seeding = time.GetTimestamp();
        await BenchSeed.RowsWithRunningBoxesAsync(db, SweepBench.Provider, SweepBench.Deployment, "online", rows, time.GetUtcNow().AddHours(-1), ct);
        var victims = await BenchSeed.KillRandomOnlineBoxesAsync(db, SweepBench.Provider, dead, ct);
        Console.WriteLine($"  seeded in {SweepBench.Seconds(time.GetElapsedTime(seeding))} s");

        var everChecked = new HashSet<string>(StringComparer.Ordinal);
        var checkedPerTick = new List<int>();
        int? fullPassTick = null;
        int? allDeadMarkedTick = null;
        var marked = 0;
        var maxTick = await SweepBench.RunTicksAsync(scheduler, sim, watched, tickCount, async (tick, seen, calls) =>
        {
            everChecked.UnionWith(seen.Described);
            checkedPerTick.Add(seen.Described.Count);
            marked = await MarkedOfflineAsync(db, victims, ct);
            fullPassTick ??= everChecked.Count >= rows ? tick : null;
            allDeadMarkedTick ??= dead > 0 && marked == dead ? tick : null;
            return $"checked {seen.Described.Count:N0} rows ({calls(SimCall.Describe)} describe calls), marked offline {marked}/{dead}";
        }, ct);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT rows={rows} latency_ms={latencyMs} dead={dead} ticks={tickCount} max_tick_s={SweepBench.Seconds(maxTick)} " +
            $"checked_per_tick={string.Join(',', checkedPerTick)} full_pass_ticks={SweepBench.TickOf(rows, fullPassTick)} " +
            $"marked_offline={marked} all_dead_marked_by_tick={SweepBench.TickOf(dead, allDeadMarkedTick)}"));
        return 0;
    }

    /// <summary>How many of the killed boxes' workspaces the reconciler has marked offline (its <c>workspace.instance.lost</c> events).</summary>
    private static async Task<int> MarkedOfflineAsync(NpgsqlDataSource db, IReadOnlyList<Guid> victims, CancellationToken ct)
    {
        const string sql = """
            SELECT count(DISTINCT workspace_id)
              FROM structure_events
             WHERE event_type = 'workspace.instance.lost' AND workspace_id = ANY($1)
            """;
        return (int)await SweepBench.CountAsync(db, sql, ct, new NpgsqlParameter { Value = victims.ToArray() });
    }
}
