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
/// <c>orphan-sweep --rows N</c>: how fast the orphan sweeper drains removed rows whose boxes are still running. Seeds N
/// removed rows, each naming a running box of one sim provider with a per-call latency (20 ms by default), then runs
/// the sweeper's real ticks (the scheduler's tick: production budget, metrics line) back to back, without the interval
/// wait, until no removed row names a box. Prints rows, seconds, terminate calls, rows per second and ticks.
/// </summary>
public static class OrphanSweepBench
{
    private const string Provider = "sim-east";
    private const string Deployment = "bench";

    public static BenchCommand Command { get; } = new(
        "orphan-sweep",
        "--rows N [--latency-ms 20] [--keep-database]",
        RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("rows", "latency-ms", "keep-database");
        var rows = args.Int("rows", min: 1);
        var latencyMs = args.Int("latency-ms", 20);
        var time = TimeProvider.System;
        var options = new SweepOptions();

        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var db = database.DataSource;
        var sim = new SimProvider(Provider, new SimProviderOptions { LatencyMs = latencyMs, BootSeconds = 0, DescribeLagSeconds = 0 }, Deployment, db, time);
        var providers = new ProviderRegistry([sim], Provider);
        var sweeper = new OrphanSweeper(db, new WorkspaceStore(db, time), new PendingTerminationStore(time), new EventStore(db, time),
            providers, new BatchTerminator(providers, time), new DeploymentIdentity(Deployment), options, time, NullLogger<OrphanSweeper>.Instance);
        var scheduler = new SweepScheduler(sweeper, options, new SweepMetricsSink(TextWriter.Null, time), time, NullLogger<SweepScheduler>.Instance);

        Console.WriteLine($"orphan-sweep: {rows:N0} removed rows with running boxes on one sim provider, {latencyMs} ms per call " +
            $"(database {database.Name}; pages of {OrphanSweeper.RemovedPageSize}, {OrphanSweeper.RemovedPagesPerTick} per tick)");
        var seeding = time.GetTimestamp();
        await BenchSeed.RowsWithRunningBoxesAsync(db, Provider, Deployment, "removed", rows, time.GetUtcNow(), ct);
        Console.WriteLine($"  seeded in {Seconds(time.GetElapsedTime(seeding))} s");

        var swept = TimeSpan.Zero;
        var ticks = 0;
        // every tick drains at least a page unless something is wrong: never loop forever on a stuck run
        var maxTicks = rows / OrphanSweeper.RemovedPageSize + 10;
        while (await RemovedRowsWithBoxAsync(db, ct) > 0)
        {
            if (ticks == maxTicks)
            {
                Console.Error.WriteLine($"  gave up after {ticks} ticks with removed rows still naming boxes");
                return 1;
            }

            var tick = await scheduler.RunTickAsync(ct);
            ticks++;
            swept += tick.Duration;
            Console.WriteLine($"  tick {ticks}: terminated {tick.Result?["removed_terminated"] ?? 0:N0}, failed {tick.Result?["failed"] ?? 0:N0}, " +
                $"listed {tick.Result?["instances_listed"] ?? 0:N0} instances, {Seconds(tick.Duration)} s" + (tick.Error is { } e ? $" ({e})" : ""));
        }

        var calls = sim.Calls.Count(SimCall.Terminate);
        Console.WriteLine();
        Console.WriteLine($"rows             {rows}");
        Console.WriteLine($"seconds          {Seconds(swept)}");
        Console.WriteLine($"terminate calls  {calls}");
        Console.WriteLine($"rows per second  {(rows / swept.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture)}");
        Console.WriteLine($"ticks            {ticks}");
        return 0;
    }

    private static async Task<long> RemovedRowsWithBoxAsync(NpgsqlDataSource db, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT count(*) FROM workspaces WHERE status = 'removed' AND instance_id IS NOT NULL");
        return (long)(await cmd.ExecuteScalarAsync(ct))!;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
}
