using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class OperationWalkTests
{
    [Theory]
    [InlineData(StepNames.Begin, StepOutcome.Ok, StepNames.StopOld)]
    [InlineData(StepNames.StopOld, StepOutcome.Ok, StepNames.Write)]
    [InlineData(StepNames.StopOld, StepOutcome.Retry, StepNames.StopOld)]
    [InlineData(StepNames.StopOld, StepOutcome.Exhausted, StepNames.StopExhausted)]
    [InlineData(StepNames.StopExhausted, StepOutcome.Ok, StepNames.Write)]
    [InlineData(StepNames.Write, StepOutcome.Ok, StepNames.Provision)]
    [InlineData(StepNames.Provision, StepOutcome.Retry, StepNames.Provision)]
    [InlineData(StepNames.Provision, StepOutcome.Failed, StepNames.Rollback)]
    [InlineData(StepNames.Provision, StepOutcome.Ok, StepNames.AwaitRunning)]
    [InlineData(StepNames.AwaitRunning, StepOutcome.Pending, StepNames.AwaitRunning)]
    [InlineData(StepNames.AwaitRunning, StepOutcome.Ok, StepNames.Commit)]
    [InlineData(StepNames.Rollback, StepOutcome.Retry, StepNames.Rollback)]
    public void Each_outcome_leads_where_the_state_machine_leads(string step, string outcome, string next)
    {
        Assert.Equal(next, OperationWalk.Next(step, outcome));
    }

    [Theory]
    [InlineData(StepNames.Commit, StepOutcome.Ok)]
    [InlineData(StepNames.Provision, StepOutcome.Abort)]
    [InlineData(StepNames.Rollback, StepOutcome.Ok)]
    [InlineData(StepNames.Rollback, StepOutcome.Failed)]
    public void The_walk_ends_on_commit_abort_and_a_finished_rollback(string step, string outcome)
    {
        Assert.Null(OperationWalk.Next(step, outcome));
    }

    [Theory]
    [InlineData(OperationKind.Create, "begin,provision,await-running,commit")]
    [InlineData(OperationKind.Restart, "begin,stop-old,provision,await-running,commit")]
    [InlineData(OperationKind.Heal, "begin,stop-old,provision,await-running,commit")]
    [InlineData(OperationKind.SwitchProvider, "begin,stop-old,write,provision,await-running,commit")]
    [InlineData(OperationKind.Pause, "begin,stop-old,commit")]
    [InlineData(OperationKind.Resume, "begin,provision,await-running,commit")]
    public void Each_kind_does_work_in_exactly_the_steps_of_design_5_1(string kind, string steps)
    {
        var working = OperationWalk.Sequence.Where(step => OperationWalk.Applies(kind, step));

        Assert.Equal(steps, string.Join(',', working));
    }

    [Fact]
    public void Retry_schedules_are_the_numbers_of_design_5_2()
    {
        Assert.Equal([1, 2, 4], Enumerable.Range(1, 3).Select(n => RetrySchedule.StopOld.DelayAfter(n).TotalSeconds));
        Assert.Equal(4, RetrySchedule.StopOld.Attempts);
        Assert.Equal([2, 4, 8, 10, 10], Enumerable.Range(1, 5).Select(n => RetrySchedule.Provision.DelayAfter(n).TotalSeconds));
        Assert.Equal(6, RetrySchedule.Provision.Attempts);
        Assert.Equal([2, 4, 8, 16, 30, 30, 30], Enumerable.Range(1, 7).Select(n => RetrySchedule.Rollback.DelayAfter(n).TotalSeconds));
        Assert.Equal(8, RetrySchedule.Rollback.Attempts);
    }
}
