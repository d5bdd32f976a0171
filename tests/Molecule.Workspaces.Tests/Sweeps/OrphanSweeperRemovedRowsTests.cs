using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The orphan sweeper's first list: removed rows that still name a box.</summary>
public sealed class OrphanSweeperRemovedRowsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Rows_a_failed_delete_left_keep_their_boxes_while_terminate_fails_and_the_next_sweep_clears_them()
    {
        var root = await harness.CreateOnlineAsync("left-by-delete");
        var children = new[]
        {
            await harness.CreateOnlineAsync("left-by-delete-a", parentId: root.Id),
            await harness.CreateOnlineAsync("left-by-delete-b", parentId: root.Id),
        };
        var tree = children.Prepend(root).ToList();
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));
        var deleted = await harness.DeleteAsync(root.Id);
        var sweeper = harness.NewOrphanSweeper();

        var failing = await sweeper.RunOnceAsync(CancellationToken.None);
        var namedWhileFailing = await Task.WhenAll(tree.Select(async w => (await harness.WorkspaceAsync(w.Id)).InstanceId));
        harness.East.Faults.Clear();
        var healing = await sweeper.RunOnceAsync(CancellationToken.None);

        Assert.Equal(DeleteOutcome.TerminatePending, deleted.Outcome);
        Assert.Equal(3, failing["removed_failed"]);
        Assert.Equal(0, failing["removed_terminated"]);
        Assert.Contains(failing.Errors, e => e.Contains("simulated terminate failure"));
        Assert.Equal(tree.Select(w => w.InstanceId), namedWhileFailing);
        Assert.Equal(3, healing["removed_terminated"]);
        Assert.Equal(3, healing["removed_cleared"]);
        Assert.Equal(0, healing["failed"]);
        foreach (var w in tree)
        {
            Assert.Null((await harness.WorkspaceAsync(w.Id)).InstanceId);
            Assert.False(await harness.IsAliveAsync(harness.East, w.InstanceId!));
            var stopped = (await harness.Events.ListForWorkspaceAsync(w.Id, 100, CancellationToken.None))
                .Single(e => e.EventType == EventTypes.InstanceStopped && (string?)e.Payload["recovered_by"] == "orphan_sweeper");
            Assert.Equal(w.InstanceId, (string?)stopped.Payload["instance_id"]);
        }
    }

    [Fact]
    public async Task A_box_that_changed_between_the_sweepers_read_and_its_write_is_not_cleared()
    {
        var workspace = await harness.CreateOnlineAsync("box-changed");
        await harness.MarkRemovedAsync(workspace.Id);
        var newBox = await harness.ProvisionBoxAsync(harness.East, workspace.Id);
        var east = new InterceptingProvider(harness.East)
        {
            // between the sweeper's read of the row and its write, the row comes to name another box
            BeforeTerminate = _ => database.ExecuteAsync("UPDATE workspaces SET instance_id = $1 WHERE id = $2", newBox, workspace.Id),
        };
        var raced = harness.NewOrphanSweeper(harness.WithEast(east));

        var result = await raced.RunOnceAsync(CancellationToken.None);

        var row = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(1, result["removed_terminated"]);
        Assert.Equal(0, result["removed_cleared"]);
        Assert.Equal(newBox, row.InstanceId);
        Assert.Equal("sim-east", row.InstanceProvider);
        Assert.False(await harness.IsAliveAsync(harness.East, workspace.InstanceId!));
        Assert.True(await harness.IsAliveAsync(harness.East, newBox));

        // the box the row names now is the next tick's work, like any other
        var next = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);
        Assert.Equal(1, next["removed_cleared"]);
        Assert.False(await harness.IsAliveAsync(harness.East, newBox));
    }

    [Fact]
    public async Task External_rows_are_never_touched_even_when_they_name_a_box()
    {
        var removedExternal = await CreateExternalNamingABoxAsync("external-removed");
        var liveExternal = await CreateExternalNamingABoxAsync("external-live");
        await harness.MarkRemovedAsync(removedExternal.Id);
        var rowsBefore = await RowsAsTextAsync(removedExternal.Id, liveExternal.Id);
        harness.Time.Advance(SweepTestKit.PastLeakGrace);

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result["external_skipped"]);
        Assert.Equal(0, result["leaks_found"]);
        Assert.Equal(rowsBefore, await RowsAsTextAsync(removedExternal.Id, liveExternal.Id));
        Assert.True(await harness.IsAliveAsync(harness.East, removedExternal.InstanceId!));
        Assert.True(await harness.IsAliveAsync(harness.East, liveExternal.InstanceId!));
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(removedExternal.InstanceId!));
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(liveExternal.InstanceId!));
    }

    /// <summary>An external workspace that a hand-edit made name a running, tagged box.</summary>
    private async Task<Workspace> CreateExternalNamingABoxAsync(string name)
    {
        var created = await harness.Creator.CreateAsync(
            new NewWorkspace(name, null, Runtimes.External, 1, new Compute { Provider = "sim-east" }, 0, 0), null, CancellationToken.None);
        var id = created.Created!.WorkspaceId;
        var box = await harness.ProvisionBoxAsync(harness.East, id);
        await database.ExecuteAsync("UPDATE workspaces SET instance_id = $1, instance_provider = 'sim-east' WHERE id = $2", box, id);
        return await harness.WorkspaceAsync(id);
    }

    private Task<string> RowsAsTextAsync(Guid a, Guid b) =>
        database.ScalarAsync<string>("SELECT string_agg(w::text, '|' ORDER BY id) FROM workspaces w WHERE id IN ($1, $2)", a, b);
}
