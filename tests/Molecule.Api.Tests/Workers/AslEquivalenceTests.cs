using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// Proof that the state machine and the local runner are the same machine (DESIGN §5.4): each scenario is set up
/// twice the same way, walked once by the real ASL in aws-local-stepfunctions against the real step endpoint, and
/// once by the local runner, and both must see the same (step, outcome) sequence per execution and leave the
/// database in the same state. Each test also pins the sequence itself.
/// </summary>
public sealed class AslEquivalenceTests(AslEquivalenceFixture fixture, ITestOutputHelper output) : IClassFixture<AslEquivalenceFixture>
{
    private static readonly string[] HappyPath =
        ["begin:ok", "stop-old:ok", "write:ok", "provision:ok", "await-running:ok", "commit:ok"];

    [Fact]
    public async Task A_create_walks_alike()
    {
        var walk = await WalkBothAsync(side => side.CreateAsync(Unique("create")));

        Assert.Equal(HappyPath, walk.Single.Steps);
        Assert.Equal("Succeeded", walk.Single.FinalState);
        Assert.StartsWith("operation=succeeded | status=online | provider=sim-east", walk.EndState);
    }

    [Fact]
    public async Task A_switch_walks_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var workspace = await side.CreateOnlineAsync(Unique("switch"));
            return (workspace, await side.StartSwitchAsync(workspace, "sim-west"));
        });

        Assert.Equal(HappyPath, walk.Single.Steps);
        Assert.Equal("Succeeded", walk.Single.FinalState);
        Assert.StartsWith("operation=succeeded | status=online | provider=sim-west | instance_provider=sim-west", walk.EndState);
    }

    [Fact]
    public async Task Stop_old_exhausted_goes_through_stop_exhausted_and_the_switch_completes_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var workspace = await side.CreateOnlineAsync(Unique("stop-exhausted"));
            side.Faults("sim-east").Set(SimCall.Terminate, new SimFault(0, 0, FailNext: 4));
            return (workspace, await side.StartSwitchAsync(workspace, "sim-west"));
        });

        Assert.Equal(["begin:ok", "stop-old:retry", "stop-old:retry", "stop-old:retry", "stop-old:exhausted", "stop-exhausted:ok",
            "write:ok", "provision:ok", "await-running:ok", "commit:ok"], walk.Single.Steps);
        Assert.Equal("Succeeded", walk.Single.FinalState);
        Assert.Contains("provider=sim-west", walk.EndState);
        Assert.Contains("queued=sim-east:stop_exhausted", walk.EndState);
    }

    [Fact]
    public async Task Provision_exhausted_after_the_write_rolls_back_and_restores_the_provider_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var workspace = await side.CreateOnlineAsync(Unique("provision-exhausted"));
            side.Faults("sim-west").Set(SimCall.Provision, new SimFault(0, 0, FailNext: 6));
            return (workspace, await side.StartSwitchAsync(workspace, "sim-west"));
        });

        Assert.Equal(["begin:ok", "stop-old:ok", "write:ok", "provision:retry", "provision:retry", "provision:retry", "provision:retry",
            "provision:retry", "provision:failed", "rollback:ok"], walk.Single.Steps);
        Assert.Equal("RolledBack", walk.Single.FinalState);
        Assert.StartsWith("operation=rolled_back | status=offline | provider=sim-east | instance_provider=- | has_box=false | claimed=false", walk.EndState);
    }

    [Fact]
    public async Task A_workspace_deleted_mid_walk_aborts_and_queues_the_new_box_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var (workspace, operation) = await side.CreateAsync(Unique("deleted-mid-walk"));
            side.Scripted.Before(operation, StepNames.AwaitRunning, () => side.MarkRemovedAsync(workspace));
            return (workspace, operation);
        });

        Assert.Equal(["begin:ok", "stop-old:ok", "write:ok", "provision:ok", "await-running:abort"], walk.Single.Steps);
        Assert.Equal("Aborted", walk.Single.FinalState);
        Assert.StartsWith("operation=aborted | status=removed", walk.EndState);
        Assert.Contains("queued=sim-east:operation_aborted", walk.EndState);
    }

    [Fact]
    public async Task A_step_endpoint_answering_500_twice_is_retried_by_the_task_and_the_walk_continues_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var (workspace, operation) = await side.CreateAsync(Unique("crash-twice"));
            side.Scripted.Crash(operation, StepNames.Provision, times: 2);
            return (workspace, operation);
        });

        Assert.Equal(["begin:ok", "stop-old:ok", "write:ok", "provision:error", "provision:error", "provision:ok", "await-running:ok",
            "commit:ok"], walk.Single.Steps);
        Assert.Equal("Succeeded", walk.Single.FinalState);
        Assert.StartsWith("operation=succeeded | status=online", walk.EndState);
    }

    [Fact]
    public async Task A_step_that_crashes_on_all_six_attempts_is_caught_into_rollback_alike()
    {
        var walk = await WalkBothAsync(async side =>
        {
            var (workspace, operation) = await side.CreateAsync(Unique("crash-always"));
            side.Scripted.Crash(operation, StepNames.Provision, times: 6);
            return (workspace, operation);
        });

        Assert.Equal(["begin:ok", "stop-old:ok", "write:ok", .. Enumerable.Repeat("provision:error", 6), "rollback:ok"], walk.Single.Steps);
        Assert.Equal("RolledBack", walk.Single.FinalState);
        Assert.StartsWith("operation=rolled_back | status=failed", walk.EndState);
    }

    [Fact]
    public async Task Two_executions_of_one_operation_leave_one_success_and_one_abort_and_nothing_else_alike()
    {
        var walk = await WalkBothAsync(side => side.CreateAsync(Unique("two-executions")), executions: 2);

        var winner = Assert.Single(walk.Executions, e => e.FinalState == "Succeeded");
        var loser = Assert.Single(walk.Executions, e => e.FinalState == "Aborted");
        Assert.Equal(HappyPath, winner.Steps);
        Assert.Equal(["begin:abort"], loser.Steps);

        // nothing else: exactly what one execution alone leaves
        var single = await WalkBothAsync(side => side.CreateAsync(Unique("one-execution")));
        Assert.Equal(single.EndState, walk.EndState);
    }

    private async Task<Walk> WalkBothAsync(Func<ScenarioSide, Task<(Guid Workspace, Guid Operation)>> arrange, int executions = 1)
    {
        try
        {
            var names = Enumerable.Range(0, executions).Select(_ => Guid.NewGuid().ToString()).ToList();

            var (aslWorkspace, aslOperation) = await arrange(fixture.Asl);
            var aslRuns = await AslRun.RunAsync(fixture.StepEndpoint, aslOperation, names);

            var (localWorkspace, localOperation) = await arrange(fixture.Local);
            IReadOnlyList<string> localIds = executions == 1 ? [fixture.Runner.ExecutionIdOf(localOperation)] : names.Select(n => $"local:{n}").ToList();
            await fixture.Harness.DriveAsync(Task.WhenAll(localIds.Select(id => fixture.Runner.WalkAsync(localOperation, id, CancellationToken.None))));

            // the state machine saw exactly what the step endpoint answered
            var served = fixture.Asl.Scripted.WalkedBy(aslOperation);
            foreach (var run in aslRuns)
            {
                Assert.Equal(Pairs(served[run.ExecutionArn]), Pairs(run.Steps));
            }

            var aslSequences = aslRuns.Select(r => string.Join(" ", Pairs(r.Steps))).Order().ToList();
            var localSequences = fixture.Local.Scripted.WalkedBy(localOperation).Values.Select(s => string.Join(" ", Pairs(s))).Order().ToList();
            foreach (var run in aslRuns)
            {
                output.WriteLine($"state machine {run.ExecutionArn}: {string.Join(" → ", Pairs(run.Steps))} ⇒ {run.FinalState}");
            }

            output.WriteLine($"local runner: {string.Join(" || ", localSequences)}");
            Assert.Equal(localSequences, aslSequences);

            var aslEnd = await fixture.Asl.EndStateAsync(aslWorkspace, aslOperation);
            var localEnd = await fixture.Local.EndStateAsync(localWorkspace, localOperation);
            output.WriteLine($"end state: {aslEnd}");
            Assert.Equal(localEnd, aslEnd);
            return new Walk(aslRuns.Select(r => new WalkedExecution(Pairs(r.Steps), r.FinalState)).ToList(), aslEnd);
        }
        finally
        {
            foreach (var side in new[] { fixture.Asl, fixture.Local })
            {
                side.Faults("sim-east").Clear();
                side.Faults("sim-west").Clear();
            }
        }
    }

    private static string[] Pairs(IEnumerable<(string Step, string Outcome)> steps) => steps.Select(s => $"{s.Step}:{s.Outcome}").ToArray();

    private static string Unique(string name) => $"{name}-{Guid.NewGuid():N}";

    private sealed record WalkedExecution(string[] Steps, string? FinalState);

    private sealed record Walk(IReadOnlyList<WalkedExecution> Executions, string EndState)
    {
        public WalkedExecution Single => Assert.Single(Executions);
    }
}
