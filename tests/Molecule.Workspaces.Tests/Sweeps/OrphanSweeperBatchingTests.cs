using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps.Orphans;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>Many items: the batched path, the per-tick bound and the budget. Every test leaves no removed row with a box.</summary>
public sealed class OrphanSweeperBatchingTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Two_thousand_five_hundred_removed_rows_are_terminated_in_three_calls_and_all_cleared()
    {
        await harness.SeedRemovedRowsWithBoxesAsync(2_500, "sim-east", "many");

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(3, harness.East.Calls.Count(SimCall.Terminate));
        Assert.Equal(0, harness.West.Calls.Count(SimCall.Terminate));
        Assert.Equal(2_500, result["removed_found"]);
        Assert.Equal(2_500, result["removed_terminated"]);
        Assert.Equal(2_500, result["removed_cleared"]);
        Assert.Equal(0L, await harness.RemovedRowsWithBoxAsync());
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE instance_id LIKE 'i-many-%' AND state <> 'terminated'"));
    }

    [Fact]
    public async Task A_tick_stops_at_its_page_bound_and_the_next_tick_carries_on_from_there()
    {
        const int rows = RemovedRowsPass.PagesPerTick * RemovedRowsPass.PageSize + 500;
        await harness.SeedRemovedRowsWithBoxesAsync(rows, "sim-east", "bound");
        var sweeper = harness.NewOrphanSweeper();

        var first = await sweeper.RunOnceAsync(CancellationToken.None);
        var callsInFirst = harness.East.Calls.Count(SimCall.Terminate);
        var leftAfterFirst = await harness.RemovedRowsWithBoxAsync();
        var second = await sweeper.RunOnceAsync(CancellationToken.None);

        Assert.Equal(10_000, first["removed_terminated"]);
        Assert.Equal(RemovedRowsPass.PagesPerTick, callsInFirst);
        Assert.Equal(500L, leftAfterFirst);
        Assert.Equal(500, second["removed_terminated"]);
        Assert.Equal(callsInFirst + 1, harness.East.Calls.Count(SimCall.Terminate));
        Assert.Equal(0L, await harness.RemovedRowsWithBoxAsync());
    }

    [Fact]
    public async Task A_sweep_whose_budget_has_run_out_stops_says_so_and_leaves_the_work_to_the_next_tick()
    {
        await harness.SeedRemovedRowsWithBoxesAsync(5, "sim-east", "budget");
        var sweeper = harness.NewOrphanSweeper();
        using var spent = new CancellationTokenSource();
        spent.Cancel();

        var cut = await sweeper.RunOnceAsync(spent.Token);
        var leftAfterCut = await harness.RemovedRowsWithBoxAsync();
        var callsAfterCut = harness.East.Calls.Count(SimCall.Terminate);
        var next = await sweeper.RunOnceAsync(CancellationToken.None);

        Assert.True(cut.BudgetExhausted);
        Assert.Equal(0, cut["terminated"]);
        Assert.Equal(0, callsAfterCut);
        Assert.Equal(5L, leftAfterCut);
        Assert.False(next.BudgetExhausted);
        Assert.Equal(5, next["removed_terminated"]);
        Assert.Equal(0L, await harness.RemovedRowsWithBoxAsync());
    }
}
