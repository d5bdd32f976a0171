using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class LifecycleOperationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Restart_replaces_the_box_on_the_same_provider()
    {
        var before = await harness.CreateOnlineAsync("restart");

        await harness.WalkAsync(await harness.StartAsync(before.Id, OperationKind.Restart));

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.Equal("sim-east", after.InstanceProvider);
        Assert.NotEqual(before.InstanceId, after.InstanceId);
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.East), b => b.InstanceId == before.InstanceId);
    }

    [Fact]
    public async Task Pause_stops_the_box_and_resume_starts_a_new_one()
    {
        var before = await harness.CreateOnlineAsync("pause-resume");

        await harness.WalkAsync(await harness.StartAsync(before.Id, OperationKind.Pause));
        var paused = await harness.WorkspaceAsync(before.Id);
        await harness.WalkAsync(await harness.StartAsync(before.Id, OperationKind.Resume));
        var resumed = await harness.WorkspaceAsync(before.Id);

        Assert.Equal(WorkspaceStatus.Paused, paused.Status);
        Assert.Null(paused.InstanceId);
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.East), b => b.InstanceId == before.InstanceId);
        Assert.Equal(WorkspaceStatus.Online, resumed.Status);
        Assert.NotNull(resumed.InstanceId);
        Assert.NotEqual(before.InstanceId, resumed.InstanceId);
    }

    [Theory]
    [InlineData(OperationKind.Resume)]
    [InlineData(OperationKind.Restart)]
    [InlineData(OperationKind.SwitchProvider)]
    public async Task Nothing_under_a_paused_ancestor_may_start(string kind)
    {
        var grandparent = await harness.CreateOnlineAsync($"gp-{kind}");
        var parent = await harness.CreateOnlineAsync($"p-{kind}", parentId: grandparent.Id);
        var child = await harness.CreateOnlineAsync($"c-{kind}", parentId: parent.Id);
        await harness.WalkAsync(await harness.StartAsync(child.Id, OperationKind.Pause));
        await harness.WalkAsync(await harness.StartAsync(grandparent.Id, OperationKind.Pause));
        var before = await database.FingerprintAsync();

        var result = await harness.Starter.StartAsync(new StartRequest(kind == OperationKind.Resume ? child.Id : parent.Id, kind, "test",
            ExpectedProvider: kind == OperationKind.SwitchProvider ? "sim-east" : null,
            TargetProvider: kind == OperationKind.SwitchProvider ? "sim-west" : null), CancellationToken.None);

        Assert.Equal(StartOutcome.ParentPaused, result.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task Heal_claims_only_an_offline_row()
    {
        var online = await harness.CreateOnlineAsync("heal-online");

        var refused = await harness.Starter.StartAsync(new StartRequest(online.Id, OperationKind.Heal, "reconciler"), CancellationToken.None);
        await database.ExecuteAsync("UPDATE workspaces SET status = 'offline' WHERE id = $1", online.Id);
        var healed = await harness.StartAsync(online.Id, OperationKind.Heal);
        await harness.WalkAsync(healed);

        Assert.Equal(StartOutcome.InvalidState, refused.Outcome);
        var after = await harness.WorkspaceAsync(online.Id);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.NotEqual(online.InstanceId, after.InstanceId);
    }

    [Fact]
    public async Task A_failed_resume_leaves_the_workspace_paused()
    {
        var before = await harness.CreateOnlineAsync("resume-fails");
        await harness.WalkAsync(await harness.StartAsync(before.Id, OperationKind.Pause));
        harness.East.Faults.Set(SimCall.Provision, new SimFault(1, 0, 0));

        await harness.WalkAsync(await harness.StartAsync(before.Id, OperationKind.Resume));
        harness.East.Faults.Clear();

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(WorkspaceStatus.Paused, after.Status);
        Assert.Null(after.ClaimId);
    }
}
