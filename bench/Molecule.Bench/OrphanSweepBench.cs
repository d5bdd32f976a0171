using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Sweeps;
using Npgsql;

namespace Molecule.Bench;

/// <summary>
/// <c>orphan-sweep --rows N --latency-ms L --leaked D --removed R --ticks T</c>: the orphan sweeper over one sim provider
/// that answers each call (a list page of 1000 boxes, a terminate of up to 1000) after L ms, holding N online
/// workspaces' boxes, D tagged boxes no row names (older than the leak grace) and R removed rows that still name a
/// running box. Runs T ticks back to back through the scheduler's real tick (48 s budget at the default interval) and
/// ends with one line:
/// <c>RESULT rows=N latency_ms=L leaked=D removed=R ticks=T max_tick_s=… listed_per_tick=… full_pass_ticks=… reaped=… all_leaks_reaped_by_tick=… removed_cleared=… all_removed_cleared_by_tick=…</c>
/// (listed: distinct boxes the leak pass received from finished list calls in the tick; full_pass_ticks: the tick by
/// which every online workspace's box had been listed; "none" when not within T ticks).
/// </summary>
public static class OrphanSweepBench
{
    public static BenchCommand Command { get; } = new("orphan-sweep",
        "--rows N [--latency-ms 20] [--leaked 0] [--removed 0] [--ticks 3] [--keep-database]", RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("rows", "latency-ms", "leaked", "removed", "ticks", "keep-database");
        var rows = args.Int("rows");
        var latencyMs = args.Int("latency-ms", 20);
        var leaked = args.Int("leaked", 0);
        var removed = args.Int("removed", 0);
        var tickCount = args.Int("ticks", 3, min: 1);
        var time = TimeProvider.System;
        var options = new SweepOptions();

        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var db = database.DataSource;
        var (sim, watched) = SweepBench.SimProvider(db, latencyMs, time);
        var providers = new ProviderRegistry([watched], SweepBench.Provider);
        var sweeper = new OrphanSweeper(db, new WorkspaceStore(db, time), new PendingTerminationStore(time), new EventStore(db, time),
            providers, new BatchTerminator(providers, time), new DeploymentIdentity(SweepBench.Deployment), options, time, NullLogger<OrphanSweeper>.Instance);
        var scheduler = SweepBench.Scheduler(sweeper, options, time);

        Console.WriteLine($"orphan-sweep: {rows:N0} online workspaces' boxes, {leaked:N0} leaked boxes and {removed:N0} removed rows naming a box " +
            $"on one sim provider, {latencyMs} ms per call, {tickCount} ticks of at most {options.TickBudget.TotalSeconds:F0} s (database {database.Name})");
        var seeding = time.GetTimestamp();
        var longAgo = time.GetUtcNow().AddHours(-1);
        await BenchSeed.RowsWithRunningBoxesAsync(db, SweepBench.Provider, SweepBench.Deployment, "online", rows, longAgo, ct, prefix: "live");
        await BenchSeed.RunningBoxesAsync(db, SweepBench.Provider, SweepBench.Deployment, leaked, longAgo, "leak", ct);
        await BenchSeed.RowsWithRunningBoxesAsync(db, SweepBench.Provider, SweepBench.Deployment, "removed", removed, longAgo, ct, prefix: "gone");
        Console.WriteLine($"  seeded in {SweepBench.Seconds(time.GetElapsedTime(seeding))} s");
        var onlineBoxes = await InstanceIdsAsync(db, "SELECT instance_id FROM workspaces WHERE status = 'online'", ct);

        var everListed = new HashSet<string>(StringComparer.Ordinal);
        var listedPerTick = new List<int>();
        int? fullPassTick = null, allReapedTick = null, allClearedTick = null;
        long reaped = 0, cleared = 0;
        var maxTick = await SweepBench.RunTicksAsync(scheduler, sim, watched, tickCount, async (tick, seen, calls) =>
        {
            everListed.UnionWith(seen.Listed.Where(onlineBoxes.Contains));
            listedPerTick.Add(seen.Listed.Count);
            reaped = await SweepBench.CountAsync(db, "SELECT count(*) FROM sim_instances WHERE client_token LIKE 'leak-%' AND state = 'terminated'", ct);
            cleared = await SweepBench.CountAsync(db, "SELECT count(*) FROM workspaces WHERE name LIKE 'gone-%' AND instance_id IS NULL", ct);
            fullPassTick ??= everListed.Count >= rows ? tick : null;
            allReapedTick ??= leaked > 0 && reaped == leaked ? tick : null;
            allClearedTick ??= removed > 0 && cleared == removed ? tick : null;
            return $"listed {seen.Listed.Count:N0} boxes ({calls(SimCall.List)} list calls), " +
                $"reaped {reaped:N0}/{leaked:N0}, removed rows cleared {cleared:N0}/{removed:N0} " +
                $"({calls(SimCall.Terminate)} terminate calls)";
        }, ct);

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT rows={rows} latency_ms={latencyMs} leaked={leaked} removed={removed} ticks={tickCount} max_tick_s={SweepBench.Seconds(maxTick)} " +
            $"listed_per_tick={string.Join(',', listedPerTick)} full_pass_ticks={SweepBench.TickOf(rows, fullPassTick)} " +
            $"reaped={reaped} all_leaks_reaped_by_tick={SweepBench.TickOf(leaked, allReapedTick)} " +
            $"removed_cleared={cleared} all_removed_cleared_by_tick={SweepBench.TickOf(removed, allClearedTick)}"));
        return 0;
    }

    private static async Task<HashSet<string>> InstanceIdsAsync(NpgsqlDataSource db, string sql, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }
}
