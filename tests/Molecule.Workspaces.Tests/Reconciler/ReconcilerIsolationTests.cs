using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Sweeps;

namespace Molecule.Workspaces.Tests.Reconciler;

/// <summary>One provider failing or hanging, and two processes on one database: the rest of the tick goes on, or the second one stays out.</summary>
public sealed class ReconcilerIsolationTests : HarnessPerTest
{
    [Fact]
    public async Task A_provider_whose_describe_throws_unexpectedly_does_not_keep_the_other_provider_from_being_reconciled()
    {
        await harness.CreateOnlineAsync("east-fine", "sim-east");
        var west = await harness.CreateOnlineAsync("west-dead", "sim-west");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.West.KillAsync(west.InstanceId!, CancellationToken.None);
        var broken = new InterceptingProvider(harness.East) { BeforeDescribe = (_, _) => throw new InvalidOperationException("a bug in a provider") };
        var reconciler = harness.NewReconciler(providers: harness.WithEast(broken));

        var counts = await harness.DriveAsync(reconciler.ReconcileAsync(CancellationToken.None));

        Assert.Equal(1, counts.MarkedOffline);
        Assert.Equal(1, counts.Healed);
        Assert.Equal(1, counts.Errors);
        Assert.Equal(OperationKind.Heal, (await harness.WorkspaceAsync(west.Id)).ClaimKind);
    }

    [Fact]
    public async Task A_provider_that_hangs_does_not_keep_the_other_provider_from_being_reconciled_meanwhile()
    {
        await harness.CreateOnlineAsync("east-hangs", "sim-east");
        var west = await harness.CreateOnlineAsync("west-dies", "sim-west");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.West.KillAsync(west.InstanceId!, CancellationToken.None);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // a call that hangs past every timeout until the test lets it go
        var hanging = new InterceptingProvider(harness.East) { BeforeDescribe = (_, _) => release.Task };
        var reconciler = harness.NewReconciler(providers: harness.WithEast(hanging));

        var tick = reconciler.ReconcileAsync(CancellationToken.None);
        var westWhileEastHangs = await StepClockUntilAsync(async () => (await harness.WorkspaceAsync(west.Id)).Status != WorkspaceStatus.Online, tick);
        var tickStillRunning = !tick.IsCompleted;
        release.SetResult();
        var counts = await harness.DriveAsync(tick);

        Assert.True(westWhileEastHangs);
        Assert.True(tickStillRunning);
        Assert.Equal(1, counts.MarkedOffline);
        Assert.Equal(OperationKind.Heal, (await harness.WorkspaceAsync(west.Id)).ClaimKind);
    }

    /// <summary>Steps the fake clock half a second at a time (the re-confirm wait) until the condition holds; false if the tick ends first.</summary>
    private async Task<bool> StepClockUntilAsync(Func<Task<bool>> condition, Task tick)
    {
        for (var step = 0; step < 400 && !tick.IsCompleted; step++)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(5);
            harness.Time.Advance(TimeSpan.FromMilliseconds(500));
        }

        return await condition();
    }

    [Fact]
    public async Task A_second_reconciler_on_the_same_database_skips_its_tick_while_the_first_runs_and_says_so()
    {
        await harness.CreateOnlineAsync("locked");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var held = new InterceptingProvider(harness.East)
        {
            BeforeDescribe = async (_, _) =>
            {
                entered.TrySetResult();
                await release.Task;
            },
        };
        var first = harness.NewReconciler(providers: harness.WithEast(held));
        var second = harness.NewReconciler();
        var firstTick = first.RunOnceAsync(CancellationToken.None);
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10));
        var describes = harness.East.Calls.Count(SimCall.Describe);

        var skipped = await second.RunOnceAsync(CancellationToken.None);
        var describesWhileSkipped = harness.East.Calls.Count(SimCall.Describe) - describes;
        release.SetResult();
        var firstResult = await firstTick;
        var after = await second.RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, skipped["skipped"]);
        Assert.Equal(0, skipped["checked"]);
        Assert.Equal(0, describesWhileSkipped);
        Assert.Equal(0, firstResult["skipped"]);
        Assert.Equal(0, after["skipped"]);
        Assert.Equal(1, after["checked"]);
    }
}
