using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Sweeps;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The cadence, overrun, budget and supervision of <see cref="SweepScheduler"/>, on a stepped clock.</summary>
public sealed class SweepSchedulerTests
{
    private static readonly SweepOptions Options = new();
    private static readonly TimeSpan Interval = Options.Interval;

    private readonly WaitWatchingClock clock = new();
    private readonly StringWriter metricsOutput = new();

    [Fact]
    public async Task The_first_tick_runs_at_start_and_then_one_per_interval()
    {
        var sweep = new ScriptedSweep(clock, (_, _) => Task.FromResult(ScriptedSweep.Done));
        using var stop = new CancellationTokenSource();
        var start = clock.GetUtcNow();

        var running = Scheduler(sweep).RunAsync(stop.Token);
        for (var tick = 1; tick <= 3; tick++)
        {
            await clock.WaitForWaitAsync(Interval);
            clock.Advance(Interval);
        }

        await sweep.WaitForTickAsync(4);
        await clock.WaitForWaitAsync(Interval);
        stop.Cancel();
        await running;

        Assert.Equal(new[] { start, start + Interval, start + 2 * Interval, start + 3 * Interval }, sweep.Starts);
        Assert.Equal(4, MetricLines().Count);
    }

    [Fact]
    public async Task An_overrunning_tick_delays_the_next_one_and_never_doubles_it()
    {
        var release = new TaskCompletionSource<SweepResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        // the first tick is stuck in a call that ignores its cancellation
        var sweep = new ScriptedSweep(clock, (n, _) => n == 1 ? release.Task : Task.FromResult(ScriptedSweep.Done));
        using var stop = new CancellationTokenSource();
        var start = clock.GetUtcNow();
        var running = Scheduler(sweep).RunAsync(stop.Token);
        await sweep.WaitForTickAsync(1);

        // two and a half intervals pass while the first tick is still running: the slots at 60 s and 120 s go by
        clock.Advance(2.5 * Interval);
        var ticksWhileOverrunning = sweep.Starts.Count;
        release.SetResult(ScriptedSweep.Done);
        await sweep.WaitForTickAsync(2);
        await clock.WaitForWaitAsync(Interval);
        var ticksAfterOverrun = sweep.Starts.Count;
        clock.Advance(Interval);
        await sweep.WaitForTickAsync(3);
        await clock.WaitForWaitAsync(Interval);
        stop.Cancel();
        await running;

        Assert.Equal(1, ticksWhileOverrunning);
        // one late tick when the overrun ends, not one per missed slot
        Assert.Equal(2, ticksAfterOverrun);
        Assert.Equal(new[] { start, start + 2.5 * Interval, start + 3.5 * Interval }, sweep.Starts);
        Assert.Equal(1, sweep.MostAtOnce);
    }

    [Fact]
    public async Task A_sweep_that_throws_is_logged_and_the_next_tick_still_runs()
    {
        var sweep = new ScriptedSweep(clock, (n, _) => n == 1
            ? throw new InvalidOperationException("database went away")
            : Task.FromResult(ScriptedSweep.Done));
        var logger = new RecordingLogger<SweepScheduler>();
        using var stop = new CancellationTokenSource();
        var running = Scheduler(sweep, logger).RunAsync(stop.Token);
        await clock.WaitForWaitAsync(Interval);

        clock.Advance(Interval);
        await sweep.WaitForTickAsync(2);
        await clock.WaitForWaitAsync(Interval);
        stop.Cancel();
        await running;

        var error = Assert.Single(logger.Entries, e => e.Level == LogLevel.Error);
        Assert.Equal("database went away", error.Exception?.Message);
        Assert.Contains("scripted", error.Message);
        var lines = MetricLines();
        Assert.Equal(2, lines.Count);
        Assert.Equal(1, (int)lines[0]["tick_failed"]!);
        Assert.Equal("database went away", (string?)lines[0]["error"]);
        Assert.Equal(0, (int)lines[1]["tick_failed"]!);
    }

    [Fact]
    public async Task Each_tick_is_cancelled_when_its_budget_runs_out_before_the_next_tick_is_due()
    {
        DateTimeOffset? cancelledAt = null;
        var sweep = new ScriptedSweep(clock, async (n, ct) =>
        {
            if (n > 1)
            {
                return ScriptedSweep.Done;
            }

            // a sweep that keeps finding work until its token says stop, then reports what it did
            try
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, clock, ct);
            }
            catch (OperationCanceledException)
            {
                cancelledAt = clock.GetUtcNow();
            }

            return ScriptedSweep.Done with { BudgetExhausted = true };
        });
        using var stop = new CancellationTokenSource();
        var start = clock.GetUtcNow();
        var running = Scheduler(sweep).RunAsync(stop.Token);
        await clock.WaitForWaitAsync(Options.TickBudget);

        clock.Advance(Options.TickBudget);
        await clock.WaitForWaitAsync(Interval - Options.TickBudget);
        clock.Advance(Interval - Options.TickBudget);
        await sweep.WaitForTickAsync(2);
        await clock.WaitForWaitAsync(Interval);
        stop.Cancel();
        await running;

        Assert.Equal(start + TimeSpan.FromSeconds(48), cancelledAt);
        Assert.True(Options.TickBudget < Interval);
        Assert.Equal(new[] { start, start + Interval }, sweep.Starts);
        Assert.Equal(1, (int)MetricLines()[0]["budget_exhausted"]!);
    }

    [Fact]
    public async Task Stopping_the_host_ends_the_loop_without_another_tick()
    {
        var sweep = new ScriptedSweep(clock, (_, _) => Task.FromResult(ScriptedSweep.Done));
        using var stop = new CancellationTokenSource();
        var running = Scheduler(sweep).RunAsync(stop.Token);
        await clock.WaitForWaitAsync(Interval);

        stop.Cancel();
        await running;
        clock.Advance(2 * Interval);

        Assert.Single(sweep.Starts);
    }

    [Fact]
    public async Task The_hosted_service_runs_every_registered_sweep_on_its_own_schedule()
    {
        var stuck = new TaskCompletionSource<SweepResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        // one sweep hangs in its first tick; the other must not wait for it
        var hanging = new ScriptedSweep(clock, (_, _) => stuck.Task);
        var healthy = new ScriptedSweep(clock, (_, _) => Task.FromResult(ScriptedSweep.Done));
        using var service = new SweepHostedService([hanging, healthy], Options, new SweepMetricsSink(metricsOutput, clock, new DeploymentIdentity("test")), clock, NullLoggerFactory.Instance);

        await service.StartAsync(CancellationToken.None);
        await hanging.WaitForTickAsync(1);
        await healthy.WaitForTickAsync(1);
        await clock.WaitForWaitAsync(Interval);
        clock.Advance(Interval);
        await healthy.WaitForTickAsync(2);
        var hangingTicks = hanging.Starts.Count;
        var stopping = service.StopAsync(CancellationToken.None);
        stuck.SetResult(ScriptedSweep.Done);
        await stopping;

        Assert.Equal(1, hangingTicks);
        Assert.Equal(2, healthy.Starts.Count);
    }

    private SweepScheduler Scheduler(ISweep sweep, ILogger<SweepScheduler>? logger = null) =>
        new(sweep, Options, new SweepMetricsSink(metricsOutput, clock, new DeploymentIdentity("test")), clock, logger ?? NullLogger<SweepScheduler>.Instance);

    private List<JsonObject> MetricLines() =>
        metricsOutput.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToList();
}
