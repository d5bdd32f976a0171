using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.Steps;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class CreateOperationTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Create_inserts_the_row_already_claimed_by_its_pending_operation_and_dispatches_it()
    {
        var (id, op) = await harness.CreateAsync("claimed-at-birth");

        var row = await harness.WorkspaceAsync(id);
        var operation = await harness.OperationAsync(op);
        Assert.Equal(WorkspaceStatus.Provisioning, row.Status);
        Assert.Equal(op, row.ClaimId);
        Assert.Equal(OperationKind.Create, row.ClaimKind);
        Assert.Equal(harness.Time.GetUtcNow() + harness.Options.ClaimTtl, row.ClaimExpiresAt);
        Assert.Equal(OperationState.Pending, operation.State);
        Assert.Contains(op, harness.Dispatcher.Dispatched);
    }

    [Fact]
    public async Task A_lost_hand_off_does_not_fail_the_committed_create()
    {
        var creator = new WorkspaceCreator(database.DataSource, harness.Tokens, harness.Events, new FailingDispatcher(), harness.Sealer, harness.Options,
            harness.Time, Microsoft.Extensions.Logging.Abstractions.NullLogger<WorkspaceCreator>.Instance);

        var result = await creator.CreateAsync(new NewWorkspace("hand-off-lost", null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0),
            null, CancellationToken.None);

        Assert.Equal(CreateOutcome.Created, result.Outcome);
        var operation = await harness.OperationAsync(result.Created!.OperationId!.Value);
        Assert.Equal(OperationState.Pending, operation.State);
        Assert.Equal(0, operation.DispatchCount);
    }

    [Fact]
    public async Task Transient_provision_failures_are_retried_and_the_workspace_comes_online()
    {
        var (id, op) = await harness.CreateAsync("transient-provision");
        harness.East.Faults.Set(SimCall.Provision, new SimFault(0, 0, FailNext: 2));

        await harness.WalkAsync(op);

        var row = await harness.WorkspaceAsync(id);
        var operation = await harness.OperationAsync(op);
        Assert.Equal(WorkspaceStatus.Online, row.Status);
        Assert.Null(row.ClaimId);
        Assert.Equal(OperationState.Succeeded, operation.State);
        Assert.Equal(2, operation.Progress.AttemptsOf(StepNames.Provision));
        Assert.Single(await harness.LiveBoxesAsync(harness.East), b => b.InstanceId == row.InstanceId);
    }

    [Fact]
    public async Task Provision_retries_wait_the_schedule_of_design_5_2()
    {
        var (_, op) = await harness.CreateAsync("schedule-waits");
        harness.East.Faults.Set(SimCall.Provision, new SimFault(0, 0, FailNext: 3));
        var started = harness.Time.GetUtcNow();

        await harness.WalkAsync(op);

        // the step asked for 2 s, 4 s, 8 s, and the walk waited at least that long on the clock
        var waits = await RetryWaitsAsync(harness, op);
        Assert.Equal(new[] { 2, 4, 8 }, waits);
        Assert.True(harness.Time.GetUtcNow() - started >= TimeSpan.FromSeconds(14));
        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
    }

    [Fact]
    public async Task Provision_failing_every_time_ends_failed_with_no_box_and_the_story_in_events()
    {
        var (id, op) = await harness.CreateAsync("provision-always-fails");
        harness.East.Faults.Set(SimCall.Provision, new SimFault(1, 0, 0));

        await harness.WalkAsync(op);
        harness.East.Faults.Clear();

        var row = await harness.WorkspaceAsync(id);
        var operation = await harness.OperationAsync(op);
        Assert.Equal(WorkspaceStatus.Failed, row.Status);
        Assert.Null(row.ClaimId);
        Assert.Null(row.InstanceId);
        Assert.Equal(OperationState.RolledBack, operation.State);
        Assert.Equal(RetrySchedule.Provision.Attempts, operation.Progress.AttemptsOf(StepNames.Provision));
        Assert.Contains("provision failed after 6 attempts", operation.Error);
        Assert.DoesNotContain(await harness.LiveBoxesAsync(harness.East), b => b.Tags.GetValueOrDefault(ProviderTags.WorkspaceId) == id.ToString());
        var events = await harness.EventTypesAsync(id);
        Assert.Equal(EventTypes.WorkspaceCreated, events[0]);
        Assert.Equal(EventTypes.OperationRolledBack, events[^1]);
        Assert.Equal(6, events.Count(e => e == EventTypes.OperationStep));
    }

    [Fact]
    public async Task A_box_that_dies_before_running_fails_the_create_and_is_queued_for_termination()
    {
        var slow = new OperationHarness(database, (_, sim) => sim.BootSeconds = 600);
        var (id, op) = await slow.CreateAsync("dies-while-booting");
        var walk = slow.WalkAsync(op);
        var box = await WaitForProgressAsync(slow, op, p => p.NewInstanceId);

        await slow.East.KillAsync(box, CancellationToken.None);
        await walk;

        var row = await slow.WorkspaceAsync(id);
        Assert.Equal(WorkspaceStatus.Failed, row.Status);
        Assert.Null(row.InstanceId);
        Assert.Equal(OperationState.RolledBack, (await slow.OperationAsync(op)).State);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", box));
    }

    [Fact]
    public async Task A_crash_after_the_cloud_call_but_before_progress_was_saved_starts_no_second_box()
    {
        var (id, op) = await harness.CreateAsync("crash-after-cloud-call");
        // what the crashed step had already done: the cloud call, with the operation id as idempotency token
        var first = await harness.East.ProvisionAsync(new InstanceSpec(null, Compute.Ephemeral, null), op.ToString(),
            new Dictionary<string, string> { [ProviderTags.WorkspaceId] = id.ToString() }, CancellationToken.None);

        await harness.WalkAsync(op);

        var row = await harness.WorkspaceAsync(id);
        Assert.Equal(WorkspaceStatus.Online, row.Status);
        Assert.Equal(first, row.InstanceId);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
    }

    [Fact]
    public async Task A_process_stopped_mid_create_resumes_under_the_same_execution_and_starts_no_second_box()
    {
        var first = new OperationHarness(database, (_, sim) => sim.BootSeconds = 30);
        var (id, op) = await first.CreateAsync("stopped-mid-create");
        using var stop = new CancellationTokenSource();
        var walk = first.Runner.WalkAsync(op, stop.Token);
        await WaitForProgressAsync(first, op, p => p.InstanceWritten ? "written" : null);
        await stop.CancelAsync();
        await walk;
        Assert.Equal(OperationState.Running, (await first.OperationAsync(op)).State);

        // a new process: new runner, new providers, same database; the clock has moved past the boot time
        var second = new OperationHarness(database, (_, sim) => sim.BootSeconds = 30);
        second.Time.Advance(TimeSpan.FromSeconds(60));
        await second.WalkAsync(op);

        var row = await second.WorkspaceAsync(id);
        Assert.Equal(WorkspaceStatus.Online, row.Status);
        Assert.Equal(OperationState.Succeeded, (await second.OperationAsync(op)).State);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
    }

    [Fact]
    public async Task A_second_execution_of_the_same_operation_aborts_at_begin_and_changes_nothing()
    {
        var (id, op) = await harness.CreateAsync("second-execution");
        var owner = await harness.Executor.RunAsync(StepNames.Begin, op, "arn:owner", CancellationToken.None);
        var before = await database.FingerprintAsync();

        var intruder = await harness.Executor.RunAsync(StepNames.Begin, op, "arn:intruder", CancellationToken.None);
        var intruderProvision = await harness.Executor.RunAsync(StepNames.Provision, op, "arn:intruder", CancellationToken.None);

        Assert.Equal(StepOutcome.Ok, owner.Outcome);
        Assert.Equal(StepOutcome.Abort, intruder.Outcome);
        Assert.Equal(StepOutcome.Abort, intruderProvision.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
        Assert.Equal("arn:owner", (await harness.OperationAsync(op)).ExecutionArn);
        Assert.Equal(op, (await harness.WorkspaceAsync(id)).ClaimId);
    }

    [Fact]
    public async Task A_repeated_step_repeats_no_side_effect()
    {
        var (id, op) = await harness.CreateAsync("repeated-steps");
        const string exec = "arn:repeat";

        foreach (var step in OperationWalk.Sequence)
        {
            var first = await harness.Executor.RunAsync(step, op, exec, CancellationToken.None);
            Assert.Equal(StepOutcome.Ok, first.Outcome);
            if (step != StepNames.Commit)
            {
                var again = await harness.Executor.RunAsync(step, op, exec, CancellationToken.None);
                Assert.Equal(StepOutcome.Ok, again.Outcome);
            }
        }

        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(id)).Status);
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
        Assert.Single(await harness.EventTypesAsync(id), e => e == EventTypes.InstanceProvisioned);
    }

    [Fact]
    public async Task A_twin_execution_that_finds_the_operation_committed_leaves_the_live_box_alone()
    {
        var (id, op) = await harness.CreateAsync("twin-after-commit");
        const string exec = "arn:twin";
        foreach (var step in new[] { StepNames.Begin, StepNames.Provision, StepNames.AwaitRunning })
        {
            await harness.Executor.RunAsync(step, op, exec, CancellationToken.None);
        }

        var twinsView = await harness.OperationAsync(op);
        await harness.Executor.RunAsync(StepNames.Commit, op, exec, CancellationToken.None);

        var twin = await new CommitStep(harness.Context).RunAsync(twinsView, CancellationToken.None);

        var row = await harness.WorkspaceAsync(id);
        Assert.Equal(StepOutcome.Abort, twin.Outcome);
        Assert.Equal(WorkspaceStatus.Online, row.Status);
        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE instance_id = $1", row.InstanceId!));
    }

    private sealed class FailingDispatcher : IOperationDispatcher
    {
        public Task DispatchAsync(Guid operationId, CancellationToken ct) => throw new TimeoutException("the dispatch table did not answer");
    }

    internal static async Task<int[]> RetryWaitsAsync(OperationHarness h, Guid op) =>
        (await h.Events.ListByTypeAsync(EventTypes.OperationStep, 500, CancellationToken.None))
            .Where(e => e.OperationId == op && (string?)e.Payload["outcome"] == StepOutcome.Retry)
            .OrderBy(e => e.Id)
            .Select(e => (int)e.Payload["wait_seconds"]!)
            .ToArray();

    private static async Task<string> WaitForProgressAsync(OperationHarness h, Guid op, Func<OperationProgress, string?> read)
    {
        for (var i = 0; i < 2000; i++)
        {
            if (read((await h.OperationAsync(op)).Progress) is { } value)
            {
                return value;
            }

            await Task.Delay(5);
        }

        throw new TimeoutException("progress never showed the value");
    }
}
