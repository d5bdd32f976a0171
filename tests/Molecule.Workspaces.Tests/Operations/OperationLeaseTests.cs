using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

/// <summary>
/// Local replicas on one database (DESIGN §5.4): an operation is walked by the replica holding its lease, a live lease
/// is never taken, an expired one is adopted together with the operation's ownership — so the replica that lost it,
/// only slow or cut off, can change nothing more — and a replica resumes every active operation, page by page.
/// Two runners on one harness are two replicas: same database, same clock, different replica ids. A scan adopts
/// whatever is free in the whole database, so each test has a database of its own.
/// </summary>
public sealed class OperationLeaseTests : HarnessPerTest
{
    [Fact]
    public async Task A_dispatching_replica_takes_the_lease_and_names_its_execution_at_once()
    {
        var slow = new OperationHarness(database, (_, sim) => sim.BootSeconds = 600);
        var replica = NewReplica(slow, null);
        var (_, op) = await slow.CreateAsync("dispatched");
        await replica.StartAsync(CancellationToken.None);
        try
        {
            await replica.DispatchAsync(op, CancellationToken.None);

            Assert.Equal(replica.ReplicaId, await LeaseHolderAsync(op));
            Assert.Equal(replica.ExecutionIdOf(op), (await slow.OperationAsync(op)).ExecutionArn);
        }
        finally
        {
            await replica.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task A_process_that_walks_no_operations_takes_no_lease_when_it_dispatches()
    {
        var (_, op) = await harness.CreateAsync("dispatched-by-a-non-walker");
        var handOffs = (await harness.OperationAsync(op)).DispatchCount;

        await harness.Runner.DispatchAsync(op, CancellationToken.None);

        Assert.Null(await LeaseHolderAsync(op));
        Assert.Null((await harness.OperationAsync(op)).ExecutionArn);
        Assert.Equal(handOffs + 1, (await harness.OperationAsync(op)).DispatchCount);
    }

    [Fact]
    public async Task A_live_lease_is_neither_taken_nor_adopted_by_another_replica()
    {
        var (_, op) = await harness.CreateAsync("live-lease");
        await TakeLeaseAsync(harness.Runner, op);
        var other = NewReplica();
        harness.Time.Advance(harness.Options.Lease - TimeSpan.FromSeconds(1));
        var before = await database.FingerprintAsync();

        var adopted = await other.AdoptAsync(CancellationToken.None);
        await other.WalkAsync(op, CancellationToken.None);

        Assert.Equal(0, adopted);
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task An_expired_lease_is_adopted_with_the_operation_and_the_old_replica_can_change_nothing_more()
    {
        var (id, op) = await harness.CreateAsync("adopted-running");
        var old = harness.Runner;
        await TakeLeaseAsync(old, op);
        Assert.Equal(StepOutcome.Ok, (await harness.Executor.RunAsync(StepNames.Begin, op, old.ExecutionIdOf(op), CancellationToken.None)).Outcome);
        var adopter = NewReplica();
        harness.Time.Advance(harness.Options.Lease + TimeSpan.FromSeconds(1));

        var adopted = await adopter.AdoptAsync(CancellationToken.None);
        var afterAdoption = await database.FingerprintAsync();
        var oldProvision = await harness.Executor.RunAsync(StepNames.Provision, op, old.ExecutionIdOf(op), CancellationToken.None);
        var oldRollback = await harness.Executor.RunAsync(StepNames.Rollback, op, old.ExecutionIdOf(op), CancellationToken.None);
        var afterOldSteps = await database.FingerprintAsync();
        await old.WalkAsync(op, CancellationToken.None);
        var afterOldWalk = await database.FingerprintAsync();
        await harness.DriveAsync(adopter.WalkAsync(op, CancellationToken.None));

        Assert.Equal(1, adopted);
        Assert.Equal(StepOutcome.Abort, oldProvision.Outcome);
        Assert.Equal(StepOutcome.Abort, oldRollback.Outcome);
        Assert.Equal(afterAdoption, afterOldSteps);
        Assert.Equal(afterAdoption, afterOldWalk);
        var operation = await harness.OperationAsync(op);
        Assert.Equal(OperationState.Succeeded, operation.State);
        Assert.Equal(adopter.ExecutionIdOf(op), operation.ExecutionArn);
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(id)).Status);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
        var adoption = Assert.Single(await harness.Events.ListByTypeAsync(EventTypes.OperationAdopted, 100, CancellationToken.None), e => e.OperationId == op);
        Assert.Equal(old.ExecutionIdOf(op), (string?)adoption.Payload["previous_execution_arn"]);
        Assert.Equal(old.ReplicaId, (string?)adoption.Payload["previous_lease_holder"]);
    }

    [Fact]
    public async Task A_replica_that_never_began_an_adopted_operation_cannot_begin_it_any_more()
    {
        var (id, op) = await harness.CreateAsync("adopted-pending");
        var old = harness.Runner;
        await TakeLeaseAsync(old, op);
        var adopter = NewReplica();
        harness.Time.Advance(harness.Options.Lease + TimeSpan.FromSeconds(1));
        await adopter.AdoptAsync(CancellationToken.None);
        var before = await database.FingerprintAsync();

        // the old replica was slow between its hand-off and its first step
        var oldBegin = await harness.Executor.RunAsync(StepNames.Begin, op, old.ExecutionIdOf(op), CancellationToken.None);
        var afterOldBegin = await database.FingerprintAsync();
        var adopterBegin = await harness.Executor.RunAsync(StepNames.Begin, op, adopter.ExecutionIdOf(op), CancellationToken.None);

        Assert.Equal(StepOutcome.Abort, oldBegin.Outcome);
        Assert.Equal(before, afterOldBegin);
        Assert.Equal(StepOutcome.Ok, adopterBegin.Outcome);
        Assert.Equal(OperationState.Running, (await harness.OperationAsync(op)).State);
        Assert.Equal(op, (await harness.WorkspaceAsync(id)).ClaimId);
    }

    [Fact]
    public async Task A_walking_replica_whose_lease_was_taken_over_stops_before_its_next_step()
    {
        var slow = new OperationHarness(database, (_, sim) => sim.BootSeconds = 20);
        var log = new StepLog();
        var old = NewReplica(slow, log);
        var adopter = NewReplica(slow, log);
        var (id, op) = await slow.CreateAsync("taken-while-walking");
        var oldWalk = old.WalkAsync(op, CancellationToken.None);
        await WaitUntilAsync(() => log.Runs.Any(r => r.OperationId == op && r.Step == StepNames.AwaitRunning));

        // the old replica stalled past its lease (a pause, a partition) and the adopter's scan took the operation
        await database.ExecuteAsync("UPDATE operations SET lease_expires_at = $2 WHERE id = $1", op, slow.Time.GetUtcNow() - TimeSpan.FromSeconds(1));
        Assert.Equal(1, await adopter.AdoptAsync(CancellationToken.None));
        var takenOverAt = DateTimeOffset.UtcNow;
        await slow.DriveAsync(oldWalk);
        await slow.DriveAsync(adopter.WalkAsync(op, CancellationToken.None));

        Assert.DoesNotContain(log.Runs, r => r.ExecutionId == old.ExecutionIdOf(op) && r.StartedAt > takenOverAt);
        Assert.Empty(log.OperationsWalkedByTwoAtOnce());
        Assert.Equal(OperationState.Succeeded, (await slow.OperationAsync(op)).State);
        Assert.Equal(WorkspaceStatus.Online, (await slow.WorkspaceAsync(id)).Status);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
    }

    [Fact]
    public async Task The_resume_at_start_adopts_every_free_operation_page_by_page_and_leaves_live_leases_alone()
    {
        var free = new List<Guid>();
        for (var i = 0; i < 25; i++)
        {
            free.Add((await harness.CreateAsync($"resume-{i}")).OperationId);
        }

        var (_, heldElsewhere) = await harness.CreateAsync("resume-held-elsewhere");
        var live = NewReplica();
        await TakeLeaseAsync(live, heldElsewhere);
        var restarted = new LocalOperationRunner(harness.Executor, harness.Operations, harness.Leases, harness.Options, harness.Time,
            NullLogger<LocalOperationRunner>.Instance) { AdoptPageSize = 10 };

        await restarted.StartAsync(CancellationToken.None);
        try
        {
            await WaitUntilAsync(async () => await database.ScalarAsync<long>(
                "SELECT count(*) FROM operations WHERE id = ANY($1) AND state = 'succeeded'", free.ToArray()) == free.Count);
        }
        finally
        {
            await restarted.StopAsync(CancellationToken.None);
        }

        foreach (var op in free)
        {
            Assert.Equal(restarted.ExecutionIdOf(op), (await harness.OperationAsync(op)).ExecutionArn);
        }

        Assert.Equal(OperationState.Pending, (await harness.OperationAsync(heldElsewhere)).State);
        Assert.Equal(live.ReplicaId, await LeaseHolderAsync(heldElsewhere));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE id = ANY($1) AND lease_holder IS NOT NULL", free.ToArray()));
    }

    [Fact]
    public async Task Two_replicas_scanning_at_once_adopt_each_operation_exactly_once()
    {
        var ops = new List<Guid>();
        for (var i = 0; i < 60; i++)
        {
            ops.Add((await harness.CreateAsync($"scan-race-{i}")).OperationId);
        }

        var replicas = Enumerable.Range(0, 3).Select(_ => NewReplica()).ToList();
        using var start = new Barrier(replicas.Count);

        var adopted = await Task.WhenAll(replicas.Select(r => Task.Run(async () =>
        {
            start.SignalAndWait();
            var total = 0;
            for (var round = 0; round < 3; round++)
            {
                total += await r.AdoptAsync(CancellationToken.None);
            }

            return total;
        })));

        Assert.Equal(ops.Count, adopted.Sum());
        foreach (var op in ops)
        {
            var holder = await LeaseHolderAsync(op);
            var owner = Assert.Single(replicas, r => r.ReplicaId == holder);
            Assert.Equal(owner.ExecutionIdOf(op), (await harness.OperationAsync(op)).ExecutionArn);
        }
    }

    [Fact]
    public async Task A_graceful_stop_releases_the_leases_so_another_replica_adopts_at_once()
    {
        var slow = new OperationHarness(database, (_, sim) => sim.BootSeconds = 600);
        var log = new StepLog();
        var stopping = NewReplica(slow, log);
        var ops = new List<Guid>();
        await stopping.StartAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            var (_, op) = await slow.CreateAsync($"graceful-{i}");
            await stopping.DispatchAsync(op, CancellationToken.None);
            ops.Add(op);
        }

        await WaitUntilAsync(() => ops.All(op => log.Runs.Any(r => r.OperationId == op && r.Step == StepNames.AwaitRunning)));
        await stopping.StopAsync(CancellationToken.None);
        var next = NewReplica(slow, log);

        var adopted = await next.AdoptAsync(CancellationToken.None);

        Assert.Equal(ops.Count, adopted);
        foreach (var op in ops)
        {
            Assert.Equal(OperationState.Running, (await slow.OperationAsync(op)).State);
            Assert.Equal(next.ReplicaId, await LeaseHolderAsync(op));
        }
    }

    private LocalOperationRunner NewReplica() => NewReplica(harness, null);

    private static LocalOperationRunner NewReplica(OperationHarness on, StepLog? log) =>
        new(log?.Wrap(on.Executor) ?? on.Executor, on.Operations, on.Leases, on.Options, on.Time, NullLogger<LocalOperationRunner>.Instance);

    /// <summary>What a replica does when it dispatches an operation, without walking it.</summary>
    private async Task TakeLeaseAsync(LocalOperationRunner replica, Guid op) =>
        Assert.True(await harness.Leases.TryTakeAsync(op, replica.ReplicaId, replica.ExecutionIdPrefix, harness.Options.Lease, CancellationToken.None));

    private Task<string?> LeaseHolderAsync(Guid op) => database.ScalarAsync<string?>("SELECT lease_holder FROM operations WHERE id = $1", op);

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static Task WaitUntilAsync(Func<Task<bool>> condition) =>
        Eventually.UntilAsync(condition, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(20), "the condition did not hold within 30 s");
}
