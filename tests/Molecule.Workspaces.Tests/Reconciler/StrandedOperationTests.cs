using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Sweeps;

namespace Molecule.Workspaces.Tests.Reconciler;

/// <summary>Operations nothing walks any more: their claims expired, their hand-off was lost, or their claim was taken away.</summary>
public sealed class StrandedOperationTests : HarnessPerTest
{
    [Fact]
    public async Task Observe_mode_still_compensates_an_expired_claim_and_hands_a_stale_pending_operation_off_again()
    {
        var expiring = await harness.CreateOnlineAsync("observed-expiry");
        var op = await harness.StartAsync(expiring.Id, OperationKind.Restart);
        await harness.RunStepsAsync(op, "arn:died", StepNames.Begin, StepNames.StopOld);

        harness.Time.Advance(harness.Options.ClaimTtl);
        var (_, neverDispatched) = await harness.CreateAsync("observed-outbox");
        var handOffs = harness.Dispatcher.Dispatched.Count(id => id == neverDispatched);
        harness.Time.Advance(TimeSpan.FromMinutes(3));

        var counts = await harness.DriveAsync(harness.NewReconciler(SweepTestKit.ReconcilerSettings(observe: true)).ReconcileAsync(CancellationToken.None));

        var row = await harness.WorkspaceAsync(expiring.Id);
        Assert.Equal(OperationState.RolledBack, (await harness.OperationAsync(op)).State);
        Assert.Null(row.ClaimId);
        Assert.Equal(WorkspaceStatus.Offline, row.Status);
        Assert.Equal(handOffs + 1, harness.Dispatcher.Dispatched.Count(id => id == neverDispatched));
        // the liveness decision that follows is only observed: the offline row is not healed
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE kind = 'heal'"));
        Assert.Contains(await harness.Events.ListByTypeAsync(EventTypes.ReconcilerObserved, 10, CancellationToken.None),
            e => (string?)e.Payload["action"] == "heal" && e.WorkspaceId == expiring.Id);
        Assert.Equal(1, counts.ExpiredClaims);
    }

    [Fact]
    public async Task An_operation_whose_claim_was_taken_and_whose_walk_died_is_aborted_after_the_grace_and_its_new_box_queued()
    {
        var workspace = await harness.CreateOnlineAsync("abandoned");
        var op = await harness.StartAsync(workspace.Id, OperationKind.SwitchProvider, "sim-west");
        await harness.RunStepsAsync(op, "arn:died", StepNames.Begin, StepNames.StopOld, StepNames.Write, StepNames.Provision);

        var newBox = (await harness.OperationAsync(op)).Progress.NewInstanceId!;
        // a delete took the claim; the walk died before its next step could notice
        await harness.MarkRemovedAsync(workspace.Id);
        await database.ExecuteAsync("UPDATE workspaces SET instance_id = NULL, instance_provider = NULL WHERE id = $1", workspace.Id);
        var reconciler = harness.NewReconciler();

        harness.Time.Advance(TimeSpan.FromMinutes(1));
        await harness.DriveAsync(reconciler.ReconcileAsync(CancellationToken.None));
        var withinGrace = await harness.OperationAsync(op);
        harness.Time.Advance(TimeSpan.FromMinutes(10));
        await harness.DriveAsync(reconciler.ReconcileAsync(CancellationToken.None));

        var operation = await harness.OperationAsync(op);
        Assert.Equal(OperationState.Running, withinGrace.State);
        Assert.Equal(OperationState.Aborted, operation.State);
        Assert.Equal(1L, await database.ScalarAsync<long>(
            "SELECT count(*) FROM pending_terminations WHERE provider = 'sim-west' AND instance_id = $1", newBox));
        Assert.Contains(EventTypes.OperationAborted, await harness.EventTypesAsync(workspace.Id));
    }

    [Fact]
    public async Task A_walk_that_commits_while_the_reconciler_aborts_abandoned_operations_keeps_its_box()
    {
        var workspace = await harness.CreateOnlineAsync("not-abandoned");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        await harness.RunStepsAsync(op, "arn:alive", StepNames.Begin, StepNames.StopOld, StepNames.Provision, StepNames.AwaitRunning, StepNames.Commit);

        harness.Time.Advance(TimeSpan.FromMinutes(10));

        await harness.DriveAsync(harness.NewReconciler().ReconcileAsync(CancellationToken.None));

        var row = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
        Assert.Equal(WorkspaceStatus.Online, row.Status);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", row.InstanceId!));
    }
}
