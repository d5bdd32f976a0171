using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Sweeps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Sweeps;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class DeleteTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    private WorkspaceDeleter Deleter => harness.NewDeleter();

    [Fact]
    public async Task Cascade_removes_a_three_level_tree_of_twenty_and_terminates_every_box()
    {
        var tree = await TreeAsync("cascade20", childCount: 4, grandchildrenEach: 3);
        Assert.Equal(20, tree.Count);

        var result = await DeleteAsync(tree[0].Id, confirmed: true);

        Assert.Equal(DeleteOutcome.Removed, result.Outcome);
        Assert.Equal(20, result.RemovedCount);
        foreach (var w in tree)
        {
            var row = await harness.WorkspaceAsync(w.Id);
            Assert.Equal(WorkspaceStatus.Removed, row.Status);
            Assert.Null(row.InstanceId);
            Assert.NotNull(row.RemovedAt);
        }

        var live = await harness.LiveBoxesAsync(harness.East);
        Assert.DoesNotContain(live, b => tree.Any(w => w.InstanceId == b.InstanceId));
        // one batched call for the whole subtree on the one provider
        Assert.All(tree, w => Assert.Equal(1, harness.East.Calls.TerminateRequestsFor(w.InstanceId!)));
    }

    [Fact]
    public async Task Live_descendants_need_confirmation_and_nothing_changes_without_it()
    {
        var tree = await TreeAsync("needs-confirm", childCount: 2, grandchildrenEach: 1);
        var before = await database.FingerprintAsync();

        var result = await DeleteAsync(tree[0].Id, confirmed: false);

        Assert.Equal(DeleteOutcome.ConfirmationRequired, result.Outcome);
        Assert.Equal(4, result.ChildrenCount);
        Assert.Equal(tree.Skip(1).Select(w => w.Id).Order(), result.Children.Select(c => c.Id).Order());
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task A_confirm_name_that_differs_changes_nothing()
    {
        var workspace = await harness.CreateOnlineAsync("named-right");
        var before = await database.FingerprintAsync();

        var result = await Deleter.DeleteAsync(workspace.Id, confirmed: true, confirmName: "named-wrong", CancellationToken.None);

        Assert.Equal(DeleteOutcome.NameMismatch, result.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task Tokens_of_removed_workspaces_stop_resolving()
    {
        var result = await harness.Creator.CreateAsync(new NewWorkspace("token-revoked", null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0),
            null, CancellationToken.None);
        var token = result.Created!.AuthToken;
        await harness.WalkAsync(result.Created.OperationId!.Value);
        Assert.Equal(result.Created.WorkspaceId, await harness.Tokens.ResolveAsync(token, CancellationToken.None));

        await DeleteAsync(result.Created.WorkspaceId, confirmed: true);

        Assert.Null(await harness.Tokens.ResolveAsync(token, CancellationToken.None));
    }

    [Fact]
    public async Task Terminate_failing_twice_then_succeeding_removes_with_three_calls_and_no_exhaustion_event()
    {
        var workspace = await harness.CreateOnlineAsync("terminate-third-time");
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(0, 0, FailNext: 2));

        var result = await DeleteAsync(workspace.Id, confirmed: true);

        Assert.Equal(DeleteOutcome.Removed, result.Outcome);
        Assert.Equal(3, harness.East.Calls.TerminateRequestsFor(workspace.InstanceId!));
        Assert.Null((await harness.WorkspaceAsync(workspace.Id)).InstanceId);
        Assert.DoesNotContain(EventTypes.DeleteTerminateRetryExhausted, await harness.EventTypesAsync(workspace.Id));
    }

    [Fact]
    public async Task Terminate_failing_every_time_answers_pending_with_one_event_per_workspace_and_rows_keep_their_boxes()
    {
        var tree = await TreeAsync("terminate-never", childCount: 2, grandchildrenEach: 0);
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));

        var first = await DeleteAsync(tree[0].Id, confirmed: true);
        var retried = await DeleteAsync(tree[0].Id, confirmed: true);
        var requestsAfterRetry = tree.Select(w => harness.East.Calls.TerminateRequestsFor(w.InstanceId!)).ToList();
        harness.East.Faults.Clear();
        var healed = await DeleteAsync(tree[0].Id, confirmed: true);

        Assert.Equal(DeleteOutcome.TerminatePending, first.Outcome);
        Assert.Equal(3, first.RemovedCount);
        Assert.Equal(tree.Select(w => w.InstanceId).Order(), first.Pending.Select(p => p.Box.InstanceId).Order());
        foreach (var w in tree)
        {
            var exhausted = (await harness.Events.ListForWorkspaceAsync(w.Id, 100, CancellationToken.None))
                .Where(e => e.EventType == EventTypes.DeleteTerminateRetryExhausted).ToList();
            // one per delete call that could not finish: the first and the retried one
            Assert.Equal(2, exhausted.Count);
            Assert.Equal("orphan_sweeper", (string?)exhausted[0].Payload["recovery_path"]);
            Assert.Equal(3, (int?)exhausted[0].Payload["attempts"]);
            Assert.Equal(w.InstanceId, (string?)exhausted[0].Payload["instance_id"]);
        }

        // the retried delete re-drove the descendants' boxes too, not only the root's
        Assert.Equal(DeleteOutcome.TerminatePending, retried.Outcome);
        Assert.All(requestsAfterRetry, n => Assert.Equal(6, n));
        Assert.Equal(DeleteOutcome.AlreadyRemoved, healed.Outcome);
        Assert.All(tree, w => Assert.DoesNotContain(harness.LiveBoxesAsync(harness.East).Result, b => b.InstanceId == w.InstanceId));
    }

    [Fact]
    public async Task Delete_during_a_running_switch_aborts_it_and_queues_its_new_box()
    {
        var workspace = await harness.CreateOnlineAsync("delete-mid-switch");
        var op = await harness.StartAsync(workspace.Id, OperationKind.SwitchProvider, "sim-west");
        const string exec = "arn:mid-switch";
        foreach (var step in new[] { StepNames.Begin, StepNames.StopOld, StepNames.Write })
        {
            await harness.Executor.RunAsync(step, op, exec, CancellationToken.None);
        }

        // the switch has just started its new box when the delete lands
        var newBox = await harness.West.ProvisionAsync(new InstanceSpec(null, Compute.Ephemeral, null), op.ToString(),
            new Dictionary<string, string> { [ProviderTags.WorkspaceId] = workspace.Id.ToString() }, CancellationToken.None);
        await harness.Operations.SaveProgressAsync(op, StepNames.Provision,
            (await harness.OperationAsync(op)).Progress with { NewInstanceId = newBox, NewInstanceProvider = "sim-west" }, CancellationToken.None);
        var deleted = await DeleteAsync(workspace.Id, confirmed: true);

        var next = await harness.Executor.RunAsync(StepNames.Provision, op, exec, CancellationToken.None);

        Assert.Equal(DeleteOutcome.Removed, deleted.Outcome);
        Assert.Equal(StepOutcome.Abort, next.Outcome);
        Assert.Equal(OperationState.Aborted, (await harness.OperationAsync(op)).State);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE provider = 'sim-west' AND instance_id = $1", newBox));
        Assert.Null((await harness.WorkspaceAsync(workspace.Id)).ClaimId);

        // the orphan sweeper's next tick drains the queue: no box of this workspace is left running anywhere
        await harness.OrphanSweeper().RunOnceAsync(CancellationToken.None);
        foreach (var sim in new[] { harness.East, harness.West })
        {
            Assert.DoesNotContain(await harness.LiveBoxesAsync(sim), b => b.Tags.GetValueOrDefault(ProviderTags.WorkspaceId) == workspace.Id.ToString());
        }

        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", newBox));
    }


    [Fact]
    public async Task A_child_created_while_its_parent_is_deleted_never_outlives_it()
    {
        for (var i = 0; i < 15; i++)
        {
            var parent = await harness.CreateOnlineAsync($"racing-parent-{i}");

            var create = Task.Run(() => harness.Creator.CreateAsync(
                new NewWorkspace($"racing-child-{i}", parent.Id, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0), null, CancellationToken.None));
            var delete = Task.Run(() => Deleter.DeleteAsync(parent.Id, confirmed: true, null, CancellationToken.None));
            await Task.WhenAll(create, delete);

            var live = await database.ScalarAsync<long>(
                "SELECT count(*) FROM workspaces WHERE parent_id = $1 AND status <> 'removed'", parent.Id);
            Assert.Equal(0, live);
        }
    }

    [Fact]
    public async Task A_terminate_that_hangs_answers_terminate_pending_within_the_budget_and_leaves_the_boxes_to_the_sweeper()
    {
        var tree = await TreeAsync("terminate-hangs", childCount: 1, grandchildrenEach: 0);
        var hanging = new TerminateHangsProvider("sim-east");
        var deleter = harness.NewDeleter(new ProviderRegistry([hanging], "sim-east"), new DeleteOptions { BudgetSeconds = 5 });
        var started = harness.Time.GetUtcNow();

        var result = await harness.DriveAsync(deleter.DeleteAsync(tree[0].Id, confirmed: true, null, CancellationToken.None));

        // answered once the 5 s budget ran out, long before the 30 s call timeout (the driver keeps stepping the fake clock
        // by 500 ms while the answer's events are written, so on a loaded machine the clock reads a few steps past 5 s)
        Assert.InRange(harness.Time.GetUtcNow() - started, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10));
        Assert.Equal(DeleteOutcome.TerminatePending, result.Outcome);
        Assert.Equal(2, result.RemovedCount);
        Assert.Equal(tree.Select(w => w.InstanceId).Order(), result.Pending.Select(p => p.Box.InstanceId).Order());
        Assert.All(result.Pending, p => Assert.Equal(1, p.Attempts));
        Assert.Equal(1, hanging.TerminateCalls);
        foreach (var w in tree)
        {
            var row = await harness.WorkspaceAsync(w.Id);
            Assert.Equal(WorkspaceStatus.Removed, row.Status);
            Assert.Equal(w.InstanceId, row.InstanceId);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(30)]
    [InlineData(45)]
    public void A_delete_budget_outside_api_gateways_timeout_refuses_to_start(double seconds)
    {
        var error = Assert.Throws<InvalidOperationException>(() => new DeleteOptions { BudgetSeconds = seconds }.Validate());

        Assert.Contains("Molecule:Delete:BudgetSeconds", error.Message);
    }

    [Fact]
    public async Task An_unknown_workspace_is_not_found()
    {
        var result = await DeleteAsync(Guid.NewGuid(), confirmed: true);

        Assert.Equal(DeleteOutcome.NotFound, result.Outcome);
    }

    /// <summary>Runs a delete while stepping the fake clock, so its retry delays pass.</summary>
    private Task<DeleteResult> DeleteAsync(Guid id, bool confirmed) =>
        harness.DriveAsync(Deleter.DeleteAsync(id, confirmed, null, CancellationToken.None));

    /// <summary>A root, its children and their children, all online on sim-east; the root first.</summary>
    private async Task<List<Workspace>> TreeAsync(string prefix, int childCount, int grandchildrenEach)
    {
        var root = await harness.CreateOnlineAsync(prefix);
        var all = new List<Workspace> { root };
        for (var c = 0; c < childCount; c++)
        {
            var child = await harness.CreateOnlineAsync($"{prefix}-c{c}", parentId: root.Id);
            all.Add(child);
            for (var g = 0; g < grandchildrenEach; g++)
            {
                all.Add(await harness.CreateOnlineAsync($"{prefix}-c{c}-g{g}", parentId: child.Id));
            }
        }

        if (all.Count < 20 && childCount == 4)
        {
            for (var extra = all.Count; extra < 20; extra++)
            {
                all.Add(await harness.CreateOnlineAsync($"{prefix}-x{extra}", parentId: all[1].Id));
            }
        }

        return all;
    }
}

/// <summary>A cloud whose terminate never answers until it is cancelled, as a provider stuck on a dead connection.</summary>
internal sealed class TerminateHangsProvider(string name) : IComputeProvider
{
    private int terminateCalls;

    public string Name => name;

    public string Type => "sim";

    public int TerminateCalls => terminateCalls;

    public Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct) =>
        throw new NotSupportedException();

    public Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct) =>
        throw new NotSupportedException();

    public async Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        Interlocked.Increment(ref terminateCalls);
        await Task.Delay(Timeout.InfiniteTimeSpan, ct);
        throw new InvalidOperationException("unreachable");
    }

    public Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct) => throw new NotSupportedException();
}
