using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Bench;

/// <summary>
/// <c>reconcile --rows N</c>: one instance-reconciler tick over N online workspaces whose boxes all run, on one sim
/// provider with a per-call latency (50 ms by default). Prints seconds per tick, describe calls per tick and rows per
/// second, next to the original design's pace (one describe per workspace, 200 per minute).
/// </summary>
public static class ReconcileBench
{
    private const string Provider = "sim-east";
    private const string Deployment = "bench";
    private const double OriginalRowsPerMinute = 200;

    public static BenchCommand Command { get; } = new("reconcile", "--rows N [--latency-ms 50] [--ticks 3] [--keep-database]", RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("rows", "latency-ms", "ticks", "keep-database");
        var rows = args.Int("rows", min: 1);
        var latencyMs = args.Int("latency-ms", 50);
        var tickCount = args.Int("ticks", 3, min: 1);
        var time = TimeProvider.System;

        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var db = database.DataSource;
        var sim = new SimProvider(Provider, new SimProviderOptions { LatencyMs = latencyMs, BootSeconds = 0, DescribeLagSeconds = 0 }, Deployment, db, time);
        var stack = new BenchStack(db, Deployment, new OperationOptions(), sim);
        var options = new SweepOptions();
        var reconciler = new InstanceReconciler(db, stack.Providers, stack.Starter, new OperationCompensation(stack.Context),
            stack.Context.Events, stack.Runner, ReconcilerSettings.From(options), time, NullLogger<InstanceReconciler>.Instance);

        Console.WriteLine($"reconcile: {rows:N0} online workspaces with running boxes on one sim provider, {latencyMs} ms per describe call " +
            $"(database {database.Name}; pages of {InstanceReconciler.PageSize})");
        var seeding = time.GetTimestamp();
        await BenchSeed.RowsWithRunningBoxesAsync(db, Provider, Deployment, "online", rows, time.GetUtcNow().AddHours(-1), ct);
        Console.WriteLine($"  seeded in {Seconds(time.GetElapsedTime(seeding))} s");

        var total = TimeSpan.Zero;
        var describes = 0;
        for (var tick = 1; tick <= tickCount; tick++)
        {
            var before = sim.Calls.Count(SimCall.Describe);
            var started = time.GetTimestamp();
            var counts = await reconciler.ReconcileAsync(ct);
            var elapsed = time.GetElapsedTime(started);
            var calls = sim.Calls.Count(SimCall.Describe) - before;
            total += elapsed;
            describes += calls;
            Console.WriteLine($"  tick {tick}: checked {counts.Checked:N0}, describe calls {calls}, marked offline {counts.MarkedOffline}, {Seconds(elapsed)} s");
        }

        var perTick = total / tickCount;
        var originalMinutes = rows / OriginalRowsPerMinute;
        Console.WriteLine();
        Console.WriteLine($"rows                  {rows}");
        Console.WriteLine($"seconds per tick      {Seconds(perTick)}");
        Console.WriteLine($"describe calls/tick   {describes / tickCount}");
        Console.WriteLine($"rows per second       {(rows / perTick.TotalSeconds).ToString("F0", CultureInfo.InvariantCulture)}");
        Console.WriteLine($"original design       {rows} describe calls, {originalMinutes.ToString("F0", CultureInfo.InvariantCulture)} min per full pass at 200 per minute");
        return 0;
    }

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("F2", CultureInfo.InvariantCulture);
}
