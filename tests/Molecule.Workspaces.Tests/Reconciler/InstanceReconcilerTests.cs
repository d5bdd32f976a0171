using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Sweeps;

namespace Molecule.Workspaces.Tests.Reconciler;

/// <summary>Each test gets its own database: the brake's ratios and the "nothing changed" checks need a quiet cloud.</summary>
public sealed class InstanceReconcilerTests : HarnessPerTest
{
    [Fact]
    public async Task A_killed_box_is_marked_offline_and_healed_onto_a_new_box()
    {
        var before = await harness.CreateOnlineAsync("killed");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(before.InstanceId!, CancellationToken.None);

        var counts = await TickAsync();
        var lost = await harness.WorkspaceAsync(before.Id);
        await WalkHealsAsync();

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(1, counts.MarkedOffline);
        Assert.Equal(1, counts.Healed);
        Assert.Equal(WorkspaceStatus.Provisioning, lost.Status);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.NotEqual(before.InstanceId, after.InstanceId);
        Assert.Equal("sim-east", after.InstanceProvider);
        var types = await harness.EventTypesAsync(before.Id);
        Assert.Contains(EventTypes.InstanceLost, types);
        Assert.Equal(EventTypes.OperationSucceeded, types[^1]);
    }

    [Fact]
    public async Task When_a_tick_cannot_wait_the_next_tick_confirms_the_suspect()
    {
        var before = await harness.CreateOnlineAsync("confirmed-next-tick");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(before.InstanceId!, CancellationToken.None);
        var reconciler = Reconciler(observe: false, reconfirmWithinTick: false);

        var first = await reconciler.ReconcileAsync(CancellationToken.None);
        var unchanged = await harness.WorkspaceAsync(before.Id);
        harness.Time.Advance(TimeSpan.FromSeconds(6));
        var second = await reconciler.ReconcileAsync(CancellationToken.None);

        Assert.Equal(0, first.Dead);
        Assert.Equal(WorkspaceStatus.Online, unchanged.Status);
        Assert.Equal(1, second.MarkedOffline);
        Assert.Equal(1, second.Healed);
    }

    [Fact]
    public async Task Describe_failing_every_time_changes_nothing_and_is_counted()
    {
        var workspace = await harness.CreateOnlineAsync("describe-down");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(workspace.InstanceId!, CancellationToken.None);
        harness.East.Faults.Set(SimCall.Describe, new SimFault(1, 0, 0));
        var before = await database.FingerprintAsync();

        var counts = await TickAsync();

        Assert.True(counts.ProviderErrors > 0);
        Assert.Equal(0, counts.MarkedOffline);
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task A_row_inside_the_grace_is_not_even_asked_about()
    {
        var workspace = await harness.CreateOnlineAsync("inside-grace");
        await database.ExecuteAsync("UPDATE sim_instances SET visible_at = $1 WHERE instance_id = $2",
            harness.Time.GetUtcNow().AddMinutes(10), workspace.InstanceId!);
        var describes = harness.East.Calls.Count(SimCall.Describe);

        var counts = await TickAsync();

        Assert.Equal(0, counts.Checked);
        Assert.Equal(describes, harness.East.Calls.Count(SimCall.Describe));
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(workspace.Id)).Status);
    }

    [Fact]
    public async Task A_box_that_is_back_on_the_second_describe_is_left_alone()
    {
        var workspace = await harness.CreateOnlineAsync("flicker");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        // invisible to describe for 3 more seconds: "not-found" now, "running" at the re-confirm 5 s later
        await database.ExecuteAsync("UPDATE sim_instances SET visible_at = $1 WHERE instance_id = $2",
            harness.Time.GetUtcNow().AddSeconds(3), workspace.InstanceId!);

        var counts = await TickAsync();

        Assert.Equal(0, counts.Dead);
        Assert.Equal(0, counts.MarkedOffline);
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(workspace.Id)).Status);
        Assert.True(harness.East.Calls.Count(SimCall.Describe) >= 2);
    }

    [Fact]
    public async Task Eight_of_twenty_dead_at_once_trips_the_brake_and_heals_none()
    {
        var fleet = await FleetAsync(20);
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        foreach (var w in fleet.Take(8))
        {
            await harness.East.KillAsync(w.InstanceId!, CancellationToken.None);
        }

        var counts = await TickAsync();

        Assert.Equal(8, counts.Braked);
        Assert.Equal(0, counts.MarkedOffline);
        Assert.Equal(0, counts.Healed);
        Assert.All(fleet, w => Assert.Equal(WorkspaceStatus.Online, harness.WorkspaceAsync(w.Id).Result.Status));
        var brake = Assert.Single(await harness.Events.ListByTypeAsync(EventTypes.MassFailureSuspected, 10, CancellationToken.None));
        Assert.Equal(8, (int?)brake.Payload["dead"]);
        Assert.Equal(20, (int?)brake.Payload["checked"]);
    }

    [Fact]
    public async Task One_of_twenty_dead_is_healed()
    {
        var fleet = await FleetAsync(20);
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(fleet[7].InstanceId!, CancellationToken.None);

        var counts = await TickAsync();
        await WalkHealsAsync();

        Assert.Equal(20, counts.Checked);
        Assert.Equal(1, counts.MarkedOffline);
        Assert.Equal(1, counts.Healed);
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(fleet[7].Id)).Status);
        Assert.Empty(await harness.Events.ListByTypeAsync(EventTypes.MassFailureSuspected, 10, CancellationToken.None));
    }

    [Fact]
    public async Task A_box_killed_four_times_within_the_hour_ends_failed_without_a_fourth_heal()
    {
        var workspace = await harness.CreateOnlineAsync("crash-loop");
        for (var round = 1; round <= 3; round++)
        {
            harness.Time.Advance(SweepTestKit.PastReconcileGrace);
            await harness.East.KillAsync((await harness.WorkspaceAsync(workspace.Id)).InstanceId!, CancellationToken.None);
            Assert.Equal(1, (await TickAsync()).Healed);
            await WalkHealsAsync();
            Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(workspace.Id)).Status);
        }

        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        var lastBox = (await harness.WorkspaceAsync(workspace.Id)).InstanceId!;
        await harness.East.KillAsync(lastBox, CancellationToken.None);
        var fourth = await TickAsync();

        Assert.Equal(0, fourth.Healed);
        Assert.Equal(1, fourth.BudgetExhausted);
        var failed = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(WorkspaceStatus.Failed, failed.Status);
        Assert.Null(failed.InstanceId);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", lastBox));
        Assert.Contains(EventTypes.HealBudgetExhausted, await harness.EventTypesAsync(workspace.Id));
        Assert.Equal(3, await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1 AND kind = 'heal'", workspace.Id));
    }

    [Fact]
    public async Task An_offline_row_under_a_paused_parent_is_healed_like_any_other()
    {
        var parent = await harness.CreateOnlineAsync("paused-parent");
        var child = await harness.CreateOnlineAsync("offline-child", parentId: parent.Id);
        await harness.WalkAsync(await harness.StartAsync(parent.Id, OperationKind.Pause));
        await database.ExecuteAsync("UPDATE workspaces SET status = 'offline' WHERE id = $1", child.Id);

        var counts = await TickAsync();
        await WalkHealsAsync();

        Assert.Equal(1, counts.Healed);
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(child.Id)).Status);
        Assert.Equal(WorkspaceStatus.Paused, (await harness.WorkspaceAsync(parent.Id)).Status);
    }

    [Fact]
    public async Task The_heal_budget_renews_after_an_hour()
    {
        var workspace = await harness.CreateOnlineAsync("budget-renews");
        await database.ExecuteAsync("UPDATE workspaces SET heal_count = 3, heal_window_started_at = $1 WHERE id = $2",
            harness.Time.GetUtcNow().AddMinutes(-61), workspace.Id);
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(workspace.InstanceId!, CancellationToken.None);

        var counts = await TickAsync();

        Assert.Equal(1, counts.Healed);
        Assert.Equal(1, (await harness.WorkspaceAsync(workspace.Id)).HealCount);
    }

    [Fact]
    public async Task Claimed_external_paused_and_removed_rows_are_never_touched()
    {
        var claimed = await harness.CreateOnlineAsync("claimed");
        var paused = await harness.CreateOnlineAsync("paused");
        var removed = await harness.CreateOnlineAsync("removed");
        await harness.WalkAsync(await harness.StartAsync(paused.Id, OperationKind.Pause));
        var restart = await harness.StartAsync(claimed.Id, OperationKind.Restart);
        // running, not pending: the outbox repair has nothing to do with it either
        await harness.Executor.RunAsync(StepNames.Begin, restart, "arn:holder", CancellationToken.None);
        await database.ExecuteAsync("UPDATE workspaces SET status = 'removed', removed_at = now() WHERE id = $1", removed.Id);
        await harness.Creator.CreateAsync(new NewWorkspace("external", null, Runtimes.External, 1, new Compute { Provider = "sim-east" }, 0, 0),
            null, CancellationToken.None);
        foreach (var box in new[] { claimed.InstanceId!, removed.InstanceId! })
        {
            await harness.East.KillAsync(box, CancellationToken.None);
        }

        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        var before = await database.FingerprintAsync();

        var counts = await TickAsync();

        Assert.Equal(0, counts.Checked);
        Assert.Equal(0, counts.Healed);
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task An_expired_claim_is_compensated_and_its_new_box_queued()
    {
        var workspace = await harness.CreateOnlineAsync("expired-claim");
        var op = await harness.StartAsync(workspace.Id, OperationKind.SwitchProvider, "sim-west");
        foreach (var step in new[] { StepNames.Begin, StepNames.StopOld, StepNames.Write, StepNames.Provision })
        {
            await harness.Executor.RunAsync(step, op, "arn:died", CancellationToken.None);
        }

        var newBox = (await harness.OperationAsync(op)).Progress.NewInstanceId!;
        harness.Time.Advance(harness.Options.ClaimTtl + TimeSpan.FromMinutes(1));

        var counts = await TickAsync();

        var row = await harness.WorkspaceAsync(workspace.Id);
        var operation = await harness.OperationAsync(op);
        Assert.Equal(1, counts.ExpiredClaims);
        Assert.NotEqual(op, row.ClaimId);
        Assert.Equal("sim-east", row.Compute.Provider);
        Assert.Null(row.InstanceId);
        Assert.Equal(OperationState.RolledBack, operation.State);
        Assert.Contains("claim expired", operation.Error);
        Assert.Contains(EventTypes.OperationExpired, await harness.EventTypesAsync(workspace.Id));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", newBox));
        // the old box was stopped, so the row went offline and the same tick started a heal, which now holds the claim
        Assert.Equal(1, counts.Healed);
        Assert.Equal(OperationKind.Heal, row.ClaimKind);
    }

    [Fact]
    public async Task A_pending_operation_is_dispatched_again_once_per_repair_window()
    {
        var (_, op) = await harness.CreateAsync("never-dispatched");
        var before = harness.Dispatcher.Dispatched.Count(id => id == op);

        var early = await TickAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(2.5));
        var first = await TickAsync();
        var again = await TickAsync();
        harness.Time.Advance(TimeSpan.FromMinutes(2.5));
        var later = await TickAsync();

        Assert.Equal(1, before);
        Assert.Equal(0, early.Redispatched);
        Assert.Equal(1, first.Redispatched);
        Assert.Equal(0, again.Redispatched);
        Assert.Equal(1, later.Redispatched);
        Assert.Equal(3, harness.Dispatcher.Dispatched.Count(id => id == op));
        Assert.Equal(3, (await harness.OperationAsync(op)).DispatchCount);
    }

    [Fact]
    public async Task Observe_mode_records_what_it_would_do_and_changes_no_row()
    {
        var workspace = await harness.CreateOnlineAsync("observed");
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        await harness.East.KillAsync(workspace.InstanceId!, CancellationToken.None);
        var rowBefore = await harness.WorkspaceAsync(workspace.Id);

        var counts = await TickAsync(observe: true);

        Assert.Equal(1, counts.Dead);
        Assert.Equal(0, counts.MarkedOffline);
        Assert.Equal(rowBefore, await harness.WorkspaceAsync(workspace.Id));
        var observed = await harness.Events.ListByTypeAsync(EventTypes.ReconcilerObserved, 10, CancellationToken.None);
        Assert.Contains(observed, e => (string?)e.Payload["action"] == "mark_offline" && e.WorkspaceId == workspace.Id);
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE kind = 'heal'"));
    }

    [Fact]
    public async Task Many_rows_are_checked_with_one_describe_call_per_page()
    {
        var fleet = await FleetAsync(30);
        harness.Time.Advance(SweepTestKit.PastReconcileGrace);
        var describes = harness.East.Calls.Count(SimCall.Describe);

        var counts = await TickAsync();

        Assert.Equal(30, counts.Checked);
        Assert.Equal(1, harness.East.Calls.Count(SimCall.Describe) - describes);
        Assert.All(fleet, w => Assert.Equal(WorkspaceStatus.Online, harness.WorkspaceAsync(w.Id).Result.Status));
    }

    private InstanceReconciler Reconciler(bool observe, bool reconfirmWithinTick = true) =>
        harness.NewReconciler(SweepTestKit.ReconcilerSettings(observe, reconfirmWithinTick));

    /// <summary>One tick, stepping the fake clock while it waits (the 5 s re-confirm).</summary>
    private Task<ReconcileCounts> TickAsync(bool observe = false) =>
        harness.DriveAsync(Reconciler(observe).ReconcileAsync(CancellationToken.None));

    private async Task WalkHealsAsync()
    {
        const string sql = "SELECT id FROM operations WHERE kind = 'heal' AND state IN ('pending', 'running')";
        await using var cmd = database.DataSource.CreateCommand(sql);
        var ids = new List<Guid>();
        await using (var reader = await cmd.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                ids.Add(reader.GetGuid(0));
            }
        }

        foreach (var id in ids)
        {
            await harness.WalkAsync(id);
        }
    }

    private async Task<List<Workspace>> FleetAsync(int count)
    {
        var fleet = new List<Workspace>();
        for (var i = 0; i < count; i++)
        {
            fleet.Add(await harness.CreateOnlineAsync($"fleet-{i}"));
        }

        return fleet;
    }
}
