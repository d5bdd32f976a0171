using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class SwitchProviderOperationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Switch_moves_the_workspace_to_the_target_and_terminates_the_old_box_exactly_once()
    {
        var before = await harness.CreateOnlineAsync("switch-happy");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");

        await harness.WalkAsync(op);

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.Equal("sim-west", after.Compute.Provider);
        Assert.Equal("sim-west", after.InstanceProvider);
        Assert.NotEqual(before.InstanceId, after.InstanceId);
        Assert.Null(after.ClaimId);
        Assert.Equal(1, harness.East.Calls.TerminateRequestsFor(before.InstanceId!));
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.East), b => b.InstanceId == before.InstanceId);
        Assert.Single(await harness.LiveBoxesAsync(harness.West), b => b.InstanceId == after.InstanceId);
        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
    }

    [Fact]
    public async Task Stop_old_transient_failures_are_retried_with_the_design_delays()
    {
        var before = await harness.CreateOnlineAsync("stop-retried");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(0, 0, FailNext: 3));
        var started = harness.Time.GetUtcNow();

        await harness.WalkAsync(op);

        var operation = await harness.OperationAsync(op);
        Assert.Equal(OperationState.Succeeded, operation.State);
        Assert.Equal(3, operation.Progress.AttemptsOf(StepNames.StopOld));
        Assert.False(operation.Progress.StopExhausted);
        Assert.Equal(4, harness.East.Calls.TerminateRequestsFor(before.InstanceId!));
        // 1 s, 2 s, 4 s between the four attempts, and at least that long on the clock
        var waits = await CreateOperationTests.RetryWaitsAsync(harness, op);
        Assert.Equal(new[] { 1, 2, 4 }, waits);
        Assert.True(harness.Time.GetUtcNow() - started >= TimeSpan.FromSeconds(7));
    }

    [Fact]
    public async Task Stop_old_exhausted_queues_the_old_box_records_why_and_the_switch_completes()
    {
        var before = await harness.CreateOnlineAsync("stop-exhausted");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        harness.East.Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));

        await harness.WalkAsync(op);
        harness.East.Faults.Clear();

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.Equal("sim-west", after.InstanceProvider);
        Assert.Equal(RetrySchedule.StopOld.Attempts, harness.East.Calls.TerminateRequestsFor(before.InstanceId!));
        Assert.Equal("stop_exhausted", await database.ScalarAsync<string>(
            "SELECT reason FROM pending_terminations WHERE provider = 'sim-east' AND instance_id = $1", before.InstanceId!));
        var exhausted = Assert.Single(await harness.Events.ListByTypeAsync(EventTypes.SwitchStopExhausted, 100, CancellationToken.None),
            e => e.WorkspaceId == before.Id);
        Assert.Equal(before.InstanceId, (string?)exhausted.Payload["old_instance_id"]);
        Assert.Equal("sim-east", (string?)exhausted.Payload["old_provider"]);
        Assert.Equal("sim-west", (string?)exhausted.Payload["new_provider"]);
        Assert.Contains("simulated terminate failure", (string?)exhausted.Payload["last_error"]);
    }

    [Fact]
    public async Task Provision_failing_after_the_provider_was_written_rolls_back_to_the_old_provider_offline()
    {
        var before = await harness.CreateOnlineAsync("provision-fails-after-write");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        harness.West.Faults.Set(SimCall.Provision, new SimFault(1, 0, 0));

        await harness.WalkAsync(op);
        harness.West.Faults.Clear();

        var after = await harness.WorkspaceAsync(before.Id);
        var operation = await harness.OperationAsync(op);
        Assert.Equal("sim-east", after.Compute.Provider);
        Assert.Equal(WorkspaceStatus.Offline, after.Status);
        Assert.Null(after.InstanceId);
        Assert.Null(after.ClaimId);
        Assert.Equal(OperationState.RolledBack, operation.State);
        Assert.Contains("provision failed", operation.Error);
        Assert.True(operation.Progress.ProviderWritten);
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.West), b => b.Tags[ProviderTags.WorkspaceId] == before.Id.ToString());
    }

    [Fact]
    public async Task A_new_box_that_dies_before_running_is_queued_and_the_old_provider_restored()
    {
        var slow = new OperationHarness(database, (name, sim) => sim.BootSeconds = name == "sim-west" ? 600 : 0);
        var before = await slow.CreateOnlineAsync("new-box-dies");
        var op = await slow.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        var walk = slow.WalkAsync(op);
        var newBox = await WaitForAsync(async () => (await slow.OperationAsync(op)).Progress.NewInstanceId);

        await slow.West.KillAsync(newBox, CancellationToken.None);
        await walk;

        var after = await slow.WorkspaceAsync(before.Id);
        Assert.Equal("sim-east", after.Compute.Provider);
        Assert.Equal(WorkspaceStatus.Offline, after.Status);
        Assert.Null(after.InstanceId);
        Assert.Equal(OperationState.RolledBack, (await slow.OperationAsync(op)).State);
        Assert.Equal("rollback", await database.ScalarAsync<string>(
            "SELECT reason FROM pending_terminations WHERE provider = 'sim-west' AND instance_id = $1", newBox));
    }

    [Fact]
    public async Task A_claim_lost_after_provision_aborts_the_next_step_and_queues_the_new_box()
    {
        var before = await harness.CreateOnlineAsync("claim-lost");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        const string exec = "arn:claim-lost";
        foreach (var step in new[] { StepNames.Begin, StepNames.StopOld, StepNames.Write, StepNames.Provision })
        {
            Assert.Equal(StepOutcome.Ok, (await harness.Executor.RunAsync(step, op, exec, CancellationToken.None)).Outcome);
        }

        var newBox = (await harness.OperationAsync(op)).Progress.NewInstanceId!;
        // what a delete does to a running operation: the row is removed and its claim cleared
        await database.ExecuteAsync("UPDATE workspaces SET status = 'removed', removed_at = now(), claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL WHERE id = $1", before.Id);
        var rowBefore = await harness.WorkspaceAsync(before.Id);

        var result = await harness.Executor.RunAsync(StepNames.AwaitRunning, op, exec, CancellationToken.None);

        Assert.Equal(StepOutcome.Abort, result.Outcome);
        Assert.Equal(OperationState.Aborted, (await harness.OperationAsync(op)).State);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", newBox));
        Assert.Equal(rowBefore, await harness.WorkspaceAsync(before.Id));
    }

    [Fact]
    public async Task A_claim_lost_before_provision_starts_no_box()
    {
        var before = await harness.CreateOnlineAsync("claim-lost-early");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        const string exec = "arn:claim-lost-early";
        foreach (var step in new[] { StepNames.Begin, StepNames.StopOld, StepNames.Write })
        {
            await harness.Executor.RunAsync(step, op, exec, CancellationToken.None);
        }

        await database.ExecuteAsync("UPDATE workspaces SET claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL WHERE id = $1", before.Id);
        var provisionCalls = harness.West.Calls.Count(SimCall.Provision);

        var result = await harness.Executor.RunAsync(StepNames.Provision, op, exec, CancellationToken.None);

        Assert.Equal(StepOutcome.Abort, result.Outcome);
        Assert.Equal(provisionCalls, harness.West.Calls.Count(SimCall.Provision));
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
    }

    public static TheoryData<int> StepsDoneBeforeTheStop => new() { 1, 2, 3, 4, 5 };

    [Theory]
    [MemberData(nameof(StepsDoneBeforeTheStop))]
    public async Task A_process_stopped_after_any_step_resumes_and_completes_without_a_second_box(int stepsDone)
    {
        var before = await harness.CreateOnlineAsync($"stopped-after-{stepsDone}");
        var op = await harness.StartAsync(before.Id, OperationKind.SwitchProvider, "sim-west");
        var exec = harness.Runner.ExecutionIdOf(op);
        foreach (var step in OperationWalk.Sequence.Take(stepsDone))
        {
            Assert.Equal(StepOutcome.Ok, (await harness.Executor.RunAsync(step, op, exec, CancellationToken.None)).Outcome);
        }

        // the next process walks from the start under the same execution id; every step done answers "already done"
        await harness.WalkAsync(op);

        var after = await harness.WorkspaceAsync(before.Id);
        Assert.Equal(WorkspaceStatus.Online, after.Status);
        Assert.Equal("sim-west", after.InstanceProvider);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.East), b => b.InstanceId == before.InstanceId);
        Assert.Single(await harness.LiveBoxesAsync(harness.West), b => b.Tags[ProviderTags.WorkspaceId] == before.Id.ToString());
    }

    private static async Task<string> WaitForAsync(Func<Task<string?>> read)
    {
        for (var i = 0; i < 2000; i++)
        {
            if (await read() is { } value)
            {
                return value;
            }

            await Task.Delay(5);
        }

        throw new TimeoutException("value never appeared");
    }
}
