using System.Globalization;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;

namespace Molecule.Bench;

/// <summary>
/// <c>switch --count N</c>: the wall time of switch-provider from claim to commit, against the sim's boot time. N
/// workspaces are created on sim-east and switched to sim-west one after the other by the local runner; the overhead is
/// the switch's time minus the boot it must wait for. Sim defaults: 20 ms per call, 3 s boot, 1 s describe lag.
/// </summary>
public static class SwitchBench
{
    public static BenchCommand Command { get; } = new("switch",
        "--count N [--boot-seconds 3] [--poll-ms 5000] [--latency-ms 20] [--keep-database]", RunAsync);

    private static async Task<int> RunAsync(BenchArgs args, CancellationToken ct)
    {
        args.AllowOnly("count", "boot-seconds", "poll-ms", "latency-ms", "keep-database");
        var count = args.Int("count", 10, min: 1);
        var boot = args.Int("boot-seconds", 3);
        var pollMs = args.Int("poll-ms", 5000, min: 1);
        var latencyMs = args.Int("latency-ms", 20);
        var time = TimeProvider.System;

        await using var database = await ScratchDatabase.CreateAsync("molecule_bench", args.Flag("keep-database"), ct);
        var db = database.DataSource;
        SimProvider Sim(string name) => new(name, new SimProviderOptions { LatencyMs = latencyMs, BootSeconds = boot, DescribeLagSeconds = 1 }, "bench", db, time);
        var options = new OperationOptions { PollIntervalSeconds = pollMs / 1000.0 };
        var stack = new BenchStack(db, "bench", options, Sim("sim-east"), Sim("sim-west"));

        Console.WriteLine($"switch: {count} workspaces sim-east → sim-west, {boot} s boot, {pollMs} ms poll, {latencyMs} ms per call");
        var durations = new List<double>();
        for (var i = 0; i < count; i++)
        {
            var created = await stack.Creator.CreateAsync(
                new NewWorkspace($"bench-{i}", null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0), null, ct);
            await stack.Runner.WalkAsync(created.Created!.OperationId!.Value, ct);

            var started = time.GetTimestamp();
            var result = await stack.Starter.StartAsync(new StartRequest(created.Created.WorkspaceId, OperationKind.SwitchProvider, "bench",
                ExpectedProvider: "sim-east", TargetProvider: "sim-west"), ct);
            await stack.Runner.WalkAsync(result.OperationId!.Value, ct);
            var elapsed = time.GetElapsedTime(started).TotalSeconds;
            var state = (await stack.Operations.GetAsync(result.OperationId.Value, ct))!.State;
            if (state != OperationState.Succeeded)
            {
                Console.Error.WriteLine($"  switch {i} ended {state}");
                return 1;
            }

            durations.Add(elapsed);
        }

        durations.Sort();
        string S(double v) => v.ToString("F2", CultureInfo.InvariantCulture);
        var median = durations[durations.Count / 2];
        Console.WriteLine();
        Console.WriteLine($"switches            {count}");
        Console.WriteLine($"median seconds      {S(median)} (min {S(durations[0])}, max {S(durations[^1])})");
        Console.WriteLine($"boot seconds        {boot}");
        Console.WriteLine($"median overhead     {S(median - boot)} s beyond the boot");
        return 0;
    }
}
