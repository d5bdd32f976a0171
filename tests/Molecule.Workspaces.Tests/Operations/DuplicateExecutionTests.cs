using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

/// <summary>
/// Two Step Functions executions of one operation (a re-dispatch whose first hand-off arrived after all) carry
/// different execution ids. Only the one that won <c>begin</c> may act for the operation; the other must end and
/// change nothing — rollback included (DESIGN §5.3).
/// </summary>
public sealed class DuplicateExecutionTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const int RaceRounds = 40;

    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Two_executions_racing_begin_leave_one_owner_and_the_loser_ends_only_itself()
    {
        for (var round = 0; round < RaceRounds; round++)
        {
            var (id, op) = await harness.CreateAsync($"begin-race-{round}");
            using var start = new Barrier(2);
            Task<StepResult> Begin(string execution) => Task.Run(async () =>
            {
                start.SignalAndWait();
                return await harness.Executor.RunAsync(StepNames.Begin, op, execution, CancellationToken.None);
            });

            var answers = await Task.WhenAll(Begin("arn:first"), Begin("arn:second"));

            var outcomes = answers.Select(a => a.Outcome).Order().ToArray();
            Assert.Equal([StepOutcome.Abort, StepOutcome.Ok], outcomes);
            var winner = answers[0].Outcome == StepOutcome.Ok ? "arn:first" : "arn:second";
            var operation = await harness.OperationAsync(op);
            Assert.True(operation.State == OperationState.Running, $"round {round}: the winner's operation is {operation.State}");
            Assert.Equal(winner, operation.ExecutionArn);
            Assert.Equal(op, (await harness.WorkspaceAsync(id)).ClaimId);
            var events = await harness.EventTypesAsync(id);
            Assert.DoesNotContain(EventTypes.OperationAborted, events);
            Assert.Single(events, e => e == EventTypes.OperationStarted);
        }
    }

    [Fact]
    public async Task The_loser_of_begin_lets_the_winner_walk_to_the_end()
    {
        var (id, op) = await harness.CreateAsync("loser-then-winner");
        var loadedWhilePending = await harness.OperationAsync(op);
        await harness.Executor.RunAsync(StepNames.Begin, op, "arn:winner", CancellationToken.None);

        // the loser acts on what it read while the operation was still pending
        var loser = await new Molecule.Workspaces.Operations.Steps.BeginStep(harness.Context, "arn:loser").RunAsync(loadedWhilePending, CancellationToken.None);
        foreach (var step in OperationWalk.Sequence.Skip(1))
        {
            Assert.Equal(StepOutcome.Ok, (await harness.Executor.RunAsync(step, op, "arn:winner", CancellationToken.None)).Outcome);
        }

        Assert.Equal(StepOutcome.Abort, loser.Outcome);
        Assert.Equal(OperationState.Succeeded, (await harness.OperationAsync(op)).State);
        Assert.Equal(WorkspaceStatus.Online, (await harness.WorkspaceAsync(id)).Status);
    }

    [Fact]
    public async Task A_rollback_from_an_execution_that_does_not_own_the_operation_answers_abort_and_changes_nothing()
    {
        var (id, op) = await harness.CreateAsync("foreign-rollback");
        foreach (var step in new[] { StepNames.Begin, StepNames.StopOld, StepNames.Write, StepNames.Provision })
        {
            await harness.Executor.RunAsync(step, op, "arn:owner", CancellationToken.None);
        }

        var before = await database.FingerprintAsync();

        // a twin execution crashed somewhere; its Catch sends it to Rollback
        var rollback = await harness.Executor.RunAsync(StepNames.Rollback, op, "arn:twin", CancellationToken.None);

        Assert.Equal(StepOutcome.Abort, rollback.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
        var operation = await harness.OperationAsync(op);
        Assert.Equal(OperationState.Running, operation.State);
        Assert.Equal("arn:owner", operation.ExecutionArn);
        Assert.Equal(op, (await harness.WorkspaceAsync(id)).ClaimId);
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM pending_terminations WHERE workspace_id = $1", id));
    }

    [Fact]
    public async Task A_rollback_before_any_execution_began_changes_nothing_and_leaves_the_operation_to_the_outbox_repair()
    {
        var (id, op) = await harness.CreateAsync("ownerless-rollback");
        var before = await database.FingerprintAsync();

        // begin crashed on every attempt, so the Task's Catch went to Rollback with no owner recorded
        var rollback = await harness.Executor.RunAsync(StepNames.Rollback, op, "arn:crashed-at-begin", CancellationToken.None);

        Assert.Equal(StepOutcome.Abort, rollback.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
        Assert.Equal(OperationState.Pending, (await harness.OperationAsync(op)).State);
        Assert.Equal(op, (await harness.WorkspaceAsync(id)).ClaimId);
    }

    [Fact]
    public async Task The_owner_still_rolls_back_its_own_operation()
    {
        var (id, op) = await harness.CreateAsync("owner-rollback");
        await harness.Executor.RunAsync(StepNames.Begin, op, "arn:owner", CancellationToken.None);
        await harness.Executor.RunAsync(StepNames.Provision, op, "arn:owner", CancellationToken.None);

        var rollback = await harness.Executor.RunAsync(StepNames.Rollback, op, "arn:owner", CancellationToken.None);

        Assert.Equal(StepOutcome.Ok, rollback.Outcome);
        Assert.Equal(OperationState.RolledBack, (await harness.OperationAsync(op)).State);
        var row = await harness.WorkspaceAsync(id);
        Assert.Equal(WorkspaceStatus.Failed, row.Status);
        Assert.Null(row.ClaimId);
    }
}
