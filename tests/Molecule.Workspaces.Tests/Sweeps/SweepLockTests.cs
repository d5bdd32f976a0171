using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The advisory lock each sweep tick holds: one holder per sweep and database, and a holder that loses its connection knows it.</summary>
public sealed class SweepLockTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly FakeTimeProvider time = new();

    [Fact]
    public async Task Only_one_session_holds_a_sweeps_lock_and_it_is_free_again_once_released()
    {
        var locks = new SweepLockStore(database.DataSource, time, NullLogger.Instance);

        var first = await locks.TryAcquireAsync("one-holder", CancellationToken.None);
        var second = await locks.TryAcquireAsync("one-holder", CancellationToken.None);
        var otherSweep = await locks.TryAcquireAsync("another-sweep", CancellationToken.None);
        await first!.DisposeAsync();
        var afterRelease = await locks.TryAcquireAsync("one-holder", CancellationToken.None);

        Assert.Null(second);
        Assert.NotNull(otherSweep);
        Assert.NotNull(afterRelease);
        await otherSweep!.DisposeAsync();
        await afterRelease!.DisposeAsync();
    }

    [Fact]
    public async Task A_lease_whose_connection_dies_is_reported_lost_and_another_session_can_take_the_lock()
    {
        var locks = new SweepLockStore(database.DataSource, time, NullLogger.Instance);
        var lease = (await locks.TryAcquireAsync("connection-dies", CancellationToken.None))!;

        await database.ExecuteAsync("SELECT pg_terminate_backend($1)", lease.ProcessId);
        time.Advance(SweepLockStore.ProbeInterval);
        await WaitUntilAsync(() => lease.Lost.IsCancellationRequested);
        var taken = await locks.TryAcquireAsync("connection-dies", CancellationToken.None);

        Assert.NotNull(taken);
        Assert.True(lease.Lost.IsCancellationRequested);
        await lease.DisposeAsync();
        await taken!.DisposeAsync();
    }

    [Fact]
    public async Task A_second_orphan_sweeper_skips_its_tick_while_the_first_runs_and_says_so()
    {
        var harness = new OperationHarness(database);
        await harness.SeedRemovedRowsWithBoxesAsync(1, "sim-east", "locked-orphan");
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new InterceptingProvider(harness.East)
        {
            BeforeTerminate = async _ =>
            {
                entered.TrySetResult();
                await release.Task;
            },
        };
        var firstTick = harness.NewOrphanSweeper(harness.WithEast(held)).RunOnceAsync(CancellationToken.None);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));

        var skipped = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);
        var removedWhileSkipped = await harness.RemovedRowsWithBoxAsync();
        release.SetResult();
        var first = await firstTick;

        Assert.Equal(1, skipped["skipped"]);
        Assert.Equal(0, skipped["removed_found"]);
        Assert.Equal(1L, removedWhileSkipped);
        Assert.Equal(0, first["skipped"]);
        Assert.Equal(1, first["removed_terminated"]);
        Assert.Equal(0L, await harness.RemovedRowsWithBoxAsync());
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(5);
        }
    }
}
