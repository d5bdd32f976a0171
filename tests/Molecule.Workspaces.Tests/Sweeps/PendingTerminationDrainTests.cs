using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

/// <summary>The orphan sweeper's second list: <c>pending_terminations</c>, drained with a backoff per row.</summary>
public sealed class PendingTerminationDrainTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Due_queued_boxes_are_terminated_and_leave_the_queue_and_later_ones_wait()
    {
        var workspaceId = Guid.NewGuid();
        var rolledBack = await harness.ProvisionBoxAsync(harness.East, workspaceId);
        var aborted = await harness.ProvisionBoxAsync(harness.West);
        var notYetDue = await harness.ProvisionBoxAsync(harness.East);
        await harness.EnqueueAsync("sim-east", rolledBack, workspaceId, "rollback");
        await harness.EnqueueAsync("sim-west", aborted, null, "operation_aborted");
        await harness.EnqueueAsync("sim-east", notYetDue, null, "rollback", dueIn: TimeSpan.FromDays(30));

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(2, result["pending_due"]);
        Assert.Equal(2, result["pending_terminated"]);
        Assert.False(await harness.IsAliveAsync(harness.East, rolledBack));
        Assert.False(await harness.IsAliveAsync(harness.West, aborted));
        Assert.True(await harness.IsAliveAsync(harness.East, notYetDue));
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(notYetDue));
        Assert.Equal(notYetDue, await database.ScalarAsync<string>(
            "SELECT string_agg(instance_id, ',') FROM pending_terminations WHERE instance_id = ANY($1)", (object)new[] { rolledBack, aborted, notYetDue }));
        var stopped = (await harness.Events.ListForWorkspaceAsync(workspaceId, 10, CancellationToken.None)).Single();
        Assert.Equal(EventTypes.InstanceStopped, stopped.EventType);
        Assert.Equal("rollback", (string?)stopped.Payload["reason"]);
        Assert.Equal(rolledBack, (string?)stopped.Payload["instance_id"]);
    }

    [Fact]
    public async Task A_queued_box_whose_terminate_keeps_failing_backs_off_exponentially_up_to_an_hour()
    {
        var box = await harness.ProvisionBoxAsync(harness.East);
        await harness.EnqueueAsync("sim-east", box, null, "stop_exhausted");
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));
        var sweeper = harness.NewOrphanSweeper();
        var delays = new List<TimeSpan>();
        var requestsWhileNotDue = new List<int>();

        for (var attempt = 1; attempt <= 8; attempt++)
        {
            await sweeper.RunOnceAsync(CancellationToken.None);
            var next = await NextAttemptAtAsync(box);
            delays.Add(next - harness.Time.GetUtcNow());

            // a sweep before the row is due leaves it alone
            var before = harness.East.Calls.TerminateRequestsFor(box);
            await sweeper.RunOnceAsync(CancellationToken.None);
            requestsWhileNotDue.Add(harness.East.Calls.TerminateRequestsFor(box) - before);
            harness.Time.SetUtcNow(next);
        }

        var failedRow = await database.ScalarAsync<string>("SELECT attempts || ' ' || last_error FROM pending_terminations WHERE instance_id = $1", box);
        harness.East.Faults.Clear();
        var healed = await sweeper.RunOnceAsync(CancellationToken.None);

        Assert.Equal(new[] { 1, 2, 4, 8, 16, 32, 60, 60 }.Select(m => TimeSpan.FromMinutes(m)), delays);
        Assert.All(requestsWhileNotDue, n => Assert.Equal(0, n));
        Assert.StartsWith("8 ", failedRow);
        Assert.Contains("simulated terminate failure", failedRow);
        Assert.Equal(1, healed["pending_terminated"]);
        Assert.False(await harness.IsAliveAsync(harness.East, box));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", box));
    }

    [Fact]
    public async Task A_queued_box_that_a_live_row_names_is_never_terminated_by_the_drain()
    {
        var workspace = await harness.CreateOnlineAsync("queued-but-live");
        // what a compensation from a stale read used to leave behind: the live row's own box in the queue
        await database.ExecuteAsync("""
            INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, created_at)
            VALUES ('sim-east', $1, $2, 'rollback', $3, $3)
            """, workspace.InstanceId!, workspace.Id, harness.Time.GetUtcNow());

        var result = await harness.NewOrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(0, result["pending_terminated"]);
        Assert.Equal(0, harness.East.Calls.TerminateRequestsFor(workspace.InstanceId!));
        Assert.True(await harness.IsAliveAsync(harness.East, workspace.InstanceId!));
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(workspace.Id)).Status);
    }

    private async Task<DateTimeOffset> NextAttemptAtAsync(string instanceId) =>
        new(await database.ScalarAsync<DateTime>("SELECT next_attempt_at FROM pending_terminations WHERE instance_id = $1", instanceId), TimeSpan.Zero);
}
