using Microsoft.Extensions.DependencyInjection;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;
using Npgsql;

namespace Molecule.Workspaces.Tests.Reconciler;

/// <summary>
/// Expired-claim compensation racing a walk that is still alive: a step (stop-old, provision, commit) lands between the
/// reconciler's read of the operation and the compensation. The compensation must act on what is true when it runs.
/// </summary>
public sealed class CompensationRaceTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const string Execution = "arn:still-walking";

    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task A_compensation_read_before_the_commit_queues_nothing_and_leaves_the_committed_row_alone()
    {
        var workspace = await harness.CreateOnlineAsync("stale-before-commit");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        await RunAsync(op, StepNames.Begin, StepNames.StopOld, StepNames.Provision, StepNames.AwaitRunning);
        var stale = await harness.OperationAsync(op);
        await RunAsync(op, StepNames.Commit);
        var committed = await harness.WorkspaceAsync(workspace.Id);

        await Compensation().CompensateAsync(stale, OperationState.RolledBack, EventTypes.OperationExpired, "claim expired", CancellationToken.None);

        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
        Assert.Equal(committed, await harness.WorkspaceAsync(workspace.Id));
        Assert.Equal(0L, await QueuedAsync(stale.Progress.NewInstanceId!));
    }

    [Fact]
    public async Task A_compensation_read_before_stop_old_leaves_the_boxless_row_offline_not_online()
    {
        var workspace = await harness.CreateOnlineAsync("stale-before-stop");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        await RunAsync(op, StepNames.Begin);
        var stale = await harness.OperationAsync(op);
        await RunAsync(op, StepNames.StopOld);

        await Compensation().CompensateAsync(stale, OperationState.RolledBack, EventTypes.OperationExpired, "claim expired", CancellationToken.None);

        var row = await harness.WorkspaceAsync(workspace.Id);
        Assert.Null(row.ClaimId);
        Assert.Null(row.InstanceId);
        Assert.Equal(WorkspaceStatus.Offline, row.Status);
        Assert.Equal(OperationState.RolledBack, (await harness.OperationAsync(op)).State);
    }

    [Fact]
    public async Task A_create_compensated_from_a_read_before_provision_queues_its_box_and_the_failed_row_names_none()
    {
        var (workspaceId, op) = await harness.CreateAsync("stale-before-provision");
        await RunAsync(op, StepNames.Begin);
        var stale = await harness.OperationAsync(op);
        await RunAsync(op, StepNames.Provision);
        var box = (await harness.OperationAsync(op)).Progress.NewInstanceId!;

        await Compensation().CompensateAsync(stale, OperationState.RolledBack, EventTypes.OperationExpired, "claim expired", CancellationToken.None);

        var row = await harness.WorkspaceAsync(workspaceId);
        Assert.Equal(WorkspaceStatus.Failed, row.Status);
        Assert.Null(row.InstanceId);
        Assert.Equal(1L, await QueuedAsync(box));
    }

    [Fact]
    public async Task Stop_exhausted_whose_claim_is_lost_while_it_runs_queues_nothing_the_row_still_names()
    {
        var workspace = await harness.CreateOnlineAsync("stop-exhausted-lost");
        var op = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));
        await RunAsync(op, StepNames.Begin);
        for (var attempt = 1; attempt <= RetrySchedule.StopOld.Attempts; attempt++)
        {
            await RunAsync(op, StepNames.StopOld);
        }

        harness.East.Faults.Clear();
        await using var conn = await database.DataSource.OpenConnectionAsync();
        await using var expiry = await conn.BeginTransactionAsync();
        await Execute(conn, "SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE", workspace.Id);

        // stop-exhausted runs while the claim expires under it: what the reconciler's compensation does to the row
        var step = harness.Executor.RunAsync(StepNames.StopExhausted, op, Execution, CancellationToken.None);
        await WaitUntilABackendWaitsOnALockAsync();
        await Execute(conn, """
            UPDATE workspaces SET status = 'online', claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, prior_status = NULL
             WHERE id = $1
            """, workspace.Id);
        await Execute(conn, "UPDATE operations SET state = 'rolled_back' WHERE id = $1", op);
        await expiry.CommitAsync();
        var result = await step;

        Assert.Equal(StepOutcome.Abort, result.Outcome);
        Assert.Equal(workspace.InstanceId, (await harness.WorkspaceAsync(workspace.Id)).InstanceId);
        Assert.Equal(0L, await QueuedAsync(workspace.InstanceId!));
    }

    private OperationCompensation Compensation() => harness.Services.GetRequiredService<OperationCompensation>();

    private Task RunAsync(Guid op, params string[] steps) => harness.RunStepsAsync(op, Execution, steps);

    private Task<long> QueuedAsync(string instanceId) =>
        database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", instanceId);

    private static async Task Execute(NpgsqlConnection conn, string sql, Guid id)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = id });
        await cmd.ExecuteNonQueryAsync();
    }

    private async Task WaitUntilABackendWaitsOnALockAsync()
    {
        for (var i = 0; i < 2000; i++)
        {
            if (await database.ScalarAsync<long>(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'") > 0)
            {
                return;
            }

            await Task.Delay(5);
        }

        throw new TimeoutException("no statement ever waited on the row lock");
    }
}
