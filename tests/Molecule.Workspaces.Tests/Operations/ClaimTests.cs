using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

public sealed class ClaimTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    public static TheoryData<string> LosingKinds => new()
    {
        OperationKind.Restart, OperationKind.SwitchProvider, OperationKind.Pause, OperationKind.Resume, OperationKind.Heal,
    };

    [Theory]
    [MemberData(nameof(LosingKinds))]
    public async Task Loser_of_the_claim_changes_nothing(string kind)
    {
        var workspace = await harness.CreateOnlineAsync($"loser-{kind}");
        var holder = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        var held = await harness.WorkspaceAsync(workspace.Id);
        var before = await database.FingerprintAsync();

        var loser = await harness.Starter.StartAsync(new StartRequest(workspace.Id, kind, "test",
            ExpectedProvider: kind == OperationKind.SwitchProvider ? "sim-east" : null,
            TargetProvider: kind == OperationKind.SwitchProvider ? "sim-west" : null), CancellationToken.None);

        Assert.NotEqual(StartOutcome.Started, loser.Outcome);
        Assert.Equal(before, await database.FingerprintAsync());
        var after = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(holder, after.ClaimId);
        Assert.Equal(held.Status, after.Status);
        Assert.Equal(held.PriorStatus, after.PriorStatus);
        Assert.Equal(held.Version, after.Version);
    }

    [Fact]
    public async Task A_busy_claim_reports_the_operation_that_holds_it()
    {
        var workspace = await harness.CreateOnlineAsync("busy-reports-holder");
        var holder = await harness.StartAsync(workspace.Id, OperationKind.Restart);

        var loser = await harness.Starter.StartAsync(new StartRequest(workspace.Id, OperationKind.Restart, "test"), CancellationToken.None);

        Assert.Equal(StartOutcome.Busy, loser.Outcome);
        Assert.Equal(holder, loser.OperationId);
    }

    [Fact]
    public async Task A_losers_rollback_and_commit_cannot_touch_the_winners_claim()
    {
        var workspace = await harness.CreateOnlineAsync("stale-rollback");
        var stale = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        await harness.Executor.RunAsync(StepNames.Begin, stale, "arn:stale", CancellationToken.None);
        // the stale operation's claim expired and a new operation won the row
        await database.ExecuteAsync("UPDATE workspaces SET claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, status = prior_status WHERE id = $1", workspace.Id);
        var winner = await harness.StartAsync(workspace.Id, OperationKind.Restart);
        var held = await harness.WorkspaceAsync(workspace.Id);

        var rollback = await harness.Executor.RunAsync(StepNames.Rollback, stale, "arn:stale", CancellationToken.None);
        var commit = await harness.Executor.RunAsync(StepNames.Commit, stale, "arn:stale", CancellationToken.None);

        Assert.Equal(StepOutcome.Ok, rollback.Outcome);
        Assert.Equal(StepOutcome.Abort, commit.Outcome);
        var after = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(winner, after.ClaimId);
        Assert.Equal(held.Status, after.Status);
        Assert.Equal(held.PriorStatus, after.PriorStatus);
        Assert.Equal(held.Compute, after.Compute);
        Assert.Equal(OperationState.RolledBack, (await harness.OperationAsync(stale)).State);
    }

    [Fact]
    public async Task A_switch_decided_on_a_stale_provider_is_refused()
    {
        var workspace = await harness.CreateOnlineAsync("stale-provider");

        var result = await harness.Starter.StartAsync(new StartRequest(workspace.Id, OperationKind.SwitchProvider, "test",
            ExpectedProvider: "sim-west", TargetProvider: "sim-east"), CancellationToken.None);

        Assert.Equal(StartOutcome.ProviderChanged, result.Outcome);
        Assert.Null((await harness.WorkspaceAsync(workspace.Id)).ClaimId);
    }

    [Fact]
    public async Task Many_concurrent_claims_have_exactly_one_winner()
    {
        var workspace = await harness.CreateOnlineAsync("one-winner");

        var results = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => Task.Run(() =>
            harness.Starter.StartAsync(new StartRequest(workspace.Id, OperationKind.SwitchProvider, "test",
                ExpectedProvider: "sim-east", TargetProvider: "sim-west"), CancellationToken.None))));

        var winner = Assert.Single(results, r => r.Outcome == StartOutcome.Started);
        Assert.All(results.Where(r => r != winner), r => Assert.Equal(StartOutcome.Busy, r.Outcome));
        Assert.Equal(winner.OperationId, (await harness.WorkspaceAsync(workspace.Id)).ClaimId);
        Assert.Equal(2, await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1", workspace.Id));
    }

    [Fact]
    public async Task The_claim_carries_a_ttl_and_remembers_the_prior_status()
    {
        var workspace = await harness.CreateOnlineAsync("claim-shape");

        var op = await harness.StartAsync(workspace.Id, OperationKind.Pause);

        var row = await harness.WorkspaceAsync(workspace.Id);
        Assert.Equal(op, row.ClaimId);
        Assert.Equal(OperationKind.Pause, row.ClaimKind);
        Assert.Equal(WorkspaceStatus.Provisioning, row.Status);
        Assert.Equal(WorkspaceStatus.Online, row.PriorStatus);
        Assert.Equal(harness.Time.GetUtcNow() + TimeSpan.FromMinutes(30), row.ClaimExpiresAt);
        Assert.Equal(workspace.Version + 1, row.Version);
    }
}
