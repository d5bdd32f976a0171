using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Sweeps;

public sealed class IdempotencyPurgeTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task Idempotency_answers_older_than_a_day_are_purged_and_younger_ones_kept()
    {
        var request = new NewWorkspace("keyed", null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0);
        await harness.Creator.CreateAsync(request, new IdempotencyKey("old-key", [1, 2, 3]), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromHours(20));
        await harness.Creator.CreateAsync(request with { Name = "keyed-later" }, new IdempotencyKey("young-key", [4, 5, 6]), CancellationToken.None);
        harness.Time.Advance(TimeSpan.FromHours(5));

        var result = await harness.OrphanSweeper().RunOnceAsync(CancellationToken.None);

        Assert.Equal(1, result["idempotency_keys_purged"]);
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE key = 'old-key'"));
        Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM idempotency_keys WHERE key = 'young-key'"));
    }
}
