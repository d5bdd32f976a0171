using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>
/// The orphan sweeper's third list: this deployment's boxes that no row, operation or queue entry owns. Every test ends
/// with its boxes owned or terminated, so the tests of this class never see each other's leaks.
/// </summary>
public sealed class RowGoneLeakTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task A_tagged_box_no_row_names_any_more_is_reaped_after_the_grace_and_untouched_before_it()
    {
        var workspace = await harness.CreateOnlineAsync("row-gone");
        await database.ExecuteAsync("UPDATE workspaces SET instance_id = NULL, instance_provider = NULL WHERE id = $1", workspace.Id);
        var launchedAt = await LaunchedAtAsync(workspace.InstanceId!);
        var sweeper = harness.NewOrphanSweeper();

        harness.Time.SetUtcNow(launchedAt + TimeSpan.FromSeconds(599));
        var early = await sweeper.RunOnceAsync(CancellationToken.None);
        var aliveBeforeGrace = await harness.IsAliveAsync(harness.East, workspace.InstanceId!);
        var requestsBeforeGrace = harness.East.Calls.TerminateRequestsFor(workspace.InstanceId!);
        harness.Time.Advance(TimeSpan.FromSeconds(1));
        var due = await sweeper.RunOnceAsync(CancellationToken.None);

        Assert.True(aliveBeforeGrace);
        Assert.Equal(0, early["leaks_found"]);
        Assert.Equal(0, requestsBeforeGrace);
        Assert.Equal(1, due["leaks_found"]);
        Assert.Equal(1, due["leaked"]);
        Assert.False(await harness.IsAliveAsync(harness.East, workspace.InstanceId!));
        var reaped = (await harness.Events.ListForWorkspaceAsync(workspace.Id, 100, CancellationToken.None))
            .Single(e => e.EventType == EventTypes.LeakReaped);
        Assert.Equal(workspace.InstanceId, (string?)reaped.Payload["instance_id"]);
        Assert.Equal("sim-east", (string?)reaped.Payload["provider"]);
        Assert.Equal(workspace.Id.ToString(), (string?)reaped.Payload["workspace_id"]);
        Assert.Equal(launchedAt, DateTimeOffset.Parse((string)reaped.Payload["launched_at"]!));
    }

    [Fact]
    public async Task A_box_recorded_only_as_an_active_operations_new_instance_is_untouched()
    {
        var (workspaceId, op) = await harness.CreateAsync("in-flight");
        // tagged with the workspace only: nothing but the operation's progress says whose it is
        var box = await harness.ProvisionBoxAsync(harness.East, workspaceId);
        var progress = (await harness.OperationAsync(op)).Progress with { NewInstanceId = box, NewInstanceProvider = "sim-east" };
        await harness.Operations.SaveProgressAsync(op, StepNames.Provision, progress, CancellationToken.None);
        harness.Time.Advance(SweepTestKit.PastLeakGrace);
        var sweeper = harness.NewOrphanSweeper();

        var whileActive = await sweeper.RunOnceAsync(CancellationToken.None);
        var aliveWhileActive = await harness.IsAliveAsync(harness.East, box);

        Assert.Equal(0, whileActive["leaks_found"]);
        Assert.True(aliveWhileActive);
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(box));

        // the operation, not the grace, was what protected it: once it is over, the box is a leak
        await database.ExecuteAsync("UPDATE operations SET state = 'failed' WHERE id = $1", op);
        var afterwards = await sweeper.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, afterwards["leaked"]);
        Assert.False(await harness.IsAliveAsync(harness.East, box));
    }

    [Fact]
    public async Task The_box_of_an_operation_that_lost_its_claim_is_reaped_once_the_operation_is_past_the_grace()
    {
        var (workspaceId, op) = await harness.CreateAsync("claim-taken");
        var box = await harness.ProvisionBoxAsync(harness.East, workspaceId, op);
        var progress = (await harness.OperationAsync(op)).Progress with { NewInstanceId = box, NewInstanceProvider = "sim-east" };
        await harness.Operations.SaveProgressAsync(op, StepNames.Provision, progress, CancellationToken.None);
        await database.ExecuteAsync("UPDATE operations SET state = 'running' WHERE id = $1", op);
        // a delete cleared the claim; the walk died before it could notice and queue its box
        await harness.MarkRemovedAsync(workspaceId);
        harness.Time.Advance(SweepTestKit.PastLeakGrace);

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(OperationState.Running, (await harness.OperationAsync(op)).State);
        Assert.Equal(1, result["leaked"]);
        Assert.False(await harness.IsAliveAsync(harness.East, box));
    }

    [Fact]
    public async Task A_box_tagged_with_an_active_operation_is_untouched_before_its_progress_is_written()
    {
        // the crash window: the cloud started the box, the process died before recording it anywhere
        var (workspaceId, op) = await harness.CreateAsync("crash-window");
        var box = await harness.ProvisionBoxAsync(harness.East, workspaceId, op);
        harness.Time.Advance(SweepTestKit.PastLeakGrace);
        var sweeper = harness.NewOrphanSweeper();

        var whileActive = await sweeper.RunOnceAsync(CancellationToken.None);
        var aliveWhileActive = await harness.IsAliveAsync(harness.East, box);

        Assert.Equal(0, whileActive["leaks_found"]);
        Assert.True(aliveWhileActive);

        await database.ExecuteAsync("UPDATE operations SET state = 'failed' WHERE id = $1", op);
        var afterwards = await sweeper.RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, afterwards["leaked"]);
        Assert.False(await harness.IsAliveAsync(harness.East, box));
        var reaped = (await harness.Events.ListByTypeAsync(EventTypes.LeakReaped, 100, CancellationToken.None))
            .Single(e => (string?)e.Payload["instance_id"] == box);
        Assert.Equal(op, reaped.OperationId);
        Assert.Equal(workspaceId, reaped.WorkspaceId);
    }

    [Fact]
    public async Task A_queued_box_is_left_to_the_drain_and_not_reaped_as_a_leak()
    {
        var box = await harness.ProvisionBoxAsync(harness.East);
        await harness.EnqueueAsync("sim-east", box, null, "rollback", dueIn: TimeSpan.FromDays(30));
        harness.Time.Advance(SweepTestKit.PastLeakGrace);

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, result["leaks_found"]);
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(box));
        Assert.True(await harness.IsAliveAsync(harness.East, box));
    }

    [Fact]
    public async Task A_provider_whose_list_fails_is_skipped_and_the_other_providers_are_still_swept()
    {
        var eastLeak = await harness.ProvisionBoxAsync(harness.East);
        var westLeak = await harness.ProvisionBoxAsync(harness.West);
        harness.West.Faults.Set(SimCall.List, new SimFault(1, 0, 0));
        harness.Time.Advance(SweepTestKit.PastLeakGrace);
        var sweeper = harness.NewOrphanSweeper();

        var skipped = await sweeper.RunOnceAsync(CancellationToken.None);
        var westAliveWhileSkipped = await harness.IsAliveAsync(harness.West, westLeak);

        Assert.Equal(1, skipped["providers_skipped"]);
        Assert.Equal(1, skipped["leaked"]);
        Assert.False(await harness.IsAliveAsync(harness.East, eastLeak));
        Assert.True(westAliveWhileSkipped);
        Assert.Equal(0, harness.West.Calls.TerminateRequestsFor(westLeak));
        Assert.Contains(skipped.Errors, e => e.StartsWith("sim-west: list failed"));

        harness.West.Faults.Clear();
        var recovered = await sweeper.RunOnceAsync(CancellationToken.None);
        Assert.Equal(0, recovered["providers_skipped"]);
        Assert.False(await harness.IsAliveAsync(harness.West, westLeak));
    }

    [Fact]
    public async Task A_box_tagged_for_another_deployment_is_never_reaped_even_when_a_provider_lists_it()
    {
        const string foreign = "i-other-deployment";
        await database.ExecuteAsync("""
            INSERT INTO sim_instances (provider, instance_id, client_token, instance_type, state, tags, launched_at, running_at, visible_at)
            VALUES ('sim-east', $1, $1, 'sim.medium', 'running', '{"molecule:deployment": "other"}', $2, $2, $2)
            """, foreign, harness.Time.GetUtcNow());
        // a provider whose list forgets the deployment filter
        var careless = new InterceptingProvider(harness.East) { ListOverride = async (_, ct) => new ManagedInstancePage(await harness.East.ListAllAsync(ct), null) };
        harness.Time.Advance(SweepTestKit.PastLeakGrace);

        var result = await harness.NewOrphanSweeper(harness.WithEast(careless)).RunOnceAsync(CancellationToken.None);

        Assert.True(result["instances_listed"] >= 1);
        Assert.Equal(0, result["leaks_found"]);
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(foreign));
        Assert.True(await harness.IsAliveAsync(harness.East, foreign));
    }

    private async Task<DateTimeOffset> LaunchedAtAsync(string instanceId) =>
        new(await database.ScalarAsync<DateTime>("SELECT launched_at FROM sim_instances WHERE instance_id = $1", instanceId), TimeSpan.Zero);
}
