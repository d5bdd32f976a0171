using System.Collections.Concurrent;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Sweeps;

namespace Molecule.Workspaces.Tests.Reconciler;

/// <summary>The liveness pass over many pages: acted on page by page, resumed across ticks and processes, describes bounded.</summary>
public sealed class LivenessPagingTests : HarnessPerTest
{
    [Fact]
    public async Task A_brake_that_trips_on_a_later_page_stops_marking_and_healing_that_provider_for_the_rest_of_the_pass()
    {
        var fleet = await harness.SeedOnlineRowsWithBoxesAsync(30, "sim-east", "brake");
        var settings = SweepTestKit.ReconcilerSettings(reconfirmWithinTick: false) with { PageSize = 10, DescribeConcurrency = 1 };
        var reconciler = harness.NewReconciler(settings);
        var firstDead = fleet[0];
        await harness.East.KillAsync(firstDead.InstanceId, CancellationToken.None);
        // the first tick only suspects it; the next one confirms it on the first page, before the outage shows
        await harness.DriveAsync(reconciler.ReconcileAsync(CancellationToken.None));
        foreach (var (_, box) in fleet.Skip(10).Take(10).Concat(fleet.Skip(20).Take(2)))
        {
            await harness.East.KillAsync(box, CancellationToken.None);
        }

        harness.Time.Advance(TimeSpan.FromSeconds(6));

        var counts = await harness.DriveAsync(reconciler.ReconcileAsync(CancellationToken.None));

        Assert.Equal(1, counts.MarkedOffline);
        Assert.Equal(12, counts.Braked);
        Assert.Equal(0, counts.Healed);
        var marked = await harness.WorkspaceAsync(firstDead.Id);
        Assert.Equal(WorkspaceStatus.Offline, marked.Status);
        Assert.Null(marked.ClaimId);
        Assert.All(fleet.Skip(10), w => Assert.Equal(WorkspaceStatus.Online, harness.WorkspaceAsync(w.Id).Result.Status));
        var brake = Assert.Single(await harness.Events.ListByTypeAsync(EventTypes.MassFailureSuspected, 10, CancellationToken.None));
        Assert.Equal(20, (int?)brake.Payload["checked"]);
        Assert.Equal(11, (int?)brake.Payload["dead"]);
    }

    [Fact]
    public async Task A_new_reconciler_goes_on_from_the_page_after_the_last_one_done_and_wraps_round_to_it()
    {
        var fleet = await harness.SeedOnlineRowsWithBoxesAsync(30, "sim-east", "resume");
        var settings = SweepTestKit.ReconcilerSettings() with { PageSize = 10, DescribeConcurrency = 1 };
        using var budget = new CancellationTokenSource();
        var calls = 0;
        var cut = new InterceptingProvider(harness.East)
        {
            // the budget runs out as the third page is being described
            BeforeDescribe = (_, ct) =>
            {
                if (++calls == 3)
                {
                    budget.Cancel();
                }

                ct.ThrowIfCancellationRequested();
                return Task.CompletedTask;
            },
        };
        var described = new ConcurrentQueue<IReadOnlyCollection<string>>();
        var recording = new InterceptingProvider(harness.East) { BeforeDescribe = (ids, _) => Task.Run(() => described.Enqueue(ids)) };

        var first = await harness.DriveAsync(harness.NewReconciler(settings, harness.WithEast(cut)).ReconcileAsync(budget.Token));
        var second = await harness.DriveAsync(harness.NewReconciler(settings, harness.WithEast(recording)).ReconcileAsync(CancellationToken.None));

        Assert.Equal(20, first.Checked);
        Assert.True(first.OutOfTime);
        Assert.Equal(30, second.Checked);
        var order = described.ToList();
        Assert.Equal(fleet.Skip(20).Select(w => w.InstanceId), order[0]);
        Assert.Equal(fleet.Take(10).Select(w => w.InstanceId), order[1]);
        Assert.Equal(fleet.Skip(10).Take(10).Select(w => w.InstanceId), order[2]);
    }

    [Fact]
    public async Task One_provider_never_has_more_describes_in_flight_than_configured_and_every_page_is_checked()
    {
        await harness.SeedOnlineRowsWithBoxesAsync(50, "sim-east", "bounded");
        var settings = SweepTestKit.ReconcilerSettings() with { PageSize = 5, DescribeConcurrency = 3 };
        var inFlight = 0;
        var most = 0;
        var slow = new InterceptingProvider(harness.East)
        {
            BeforeDescribe = async (_, _) =>
            {
                var now = Interlocked.Increment(ref inFlight);
                InterlockedMax(ref most, now);
                await Task.Delay(TimeSpan.FromMilliseconds(40));
                Interlocked.Decrement(ref inFlight);
            },
        };

        var counts = await harness.DriveAsync(harness.NewReconciler(settings, harness.WithEast(slow)).ReconcileAsync(CancellationToken.None));

        Assert.Equal(50, counts.Checked);
        Assert.Equal(10, counts.DescribeCalls);
        Assert.Equal(3, most);
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
        {
        }
    }
}
