using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Store;
using Molecule.Workspaces.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Molecule.Api.Tests.Replicas;

/// <summary>
/// Two local processes on one database (DESIGN §5.4): every operation is walked by one replica at a time, and when a
/// replica dies the other adopts its operations within the lease and finishes them, each step's side effect once.
/// A replica "dies" by losing its database at once (<see cref="TcpProxy.Sever"/>): from then on it renews, releases
/// and writes nothing, as a killed process would. Every step execution of both hosts is logged through the
/// <see cref="IStepExecutor"/> seam.
/// </summary>
public sealed class TwoReplicaTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private readonly StepLog steps = new();

    [Fact]
    public async Task Operations_in_flight_when_a_replica_dies_are_adopted_within_the_lease_and_finish_with_one_box_each()
    {
        const double leaseSeconds = 4;
        await using var proxy = TcpProxy.For(database.ConnectionString);
        await using var dying = Host(leaseSeconds, proxy.Route(database.ConnectionString));
        await using var survivor = Host(leaseSeconds);
        var dyingReplica = ReplicaOf(dying);
        var survivorReplica = ReplicaOf(survivor);
        var client = dying.AdminClient();
        var workspaces = new List<(string Id, Guid Operation)>();
        for (var i = 0; i < 12; i++)
        {
            var created = await client.CreateWorkspaceAsync(new { name = $"in-flight-{i}", compute = new { provider = i % 2 == 0 ? "sim-east" : "sim-west" } });
            workspaces.Add(((string)created["id"]!, Guid.Parse((string)created["operation"]!["id"]!)));
        }

        // every walk has a box booting (await-running polls it): the replica dies mid-walk
        await WaitUntilAsync(() => workspaces.All(w => steps.Runs.Any(r => r.OperationId == w.Operation && r.Step == StepNames.AwaitRunning)),
            "every create reached await-running");
        proxy.Sever();
        var diedAt = DateTimeOffset.UtcNow;
        // what the dead replica held (a commit it had already sent lands within moments, so counted after those)
        await Task.Delay(200);
        var heldByTheDying = await database.ScalarAsync<long>(
            "SELECT count(*) FROM operations WHERE lease_holder = $1 AND state IN ('pending', 'running')", dyingReplica);
        await dying.DisposeAsync();

        await WaitUntilAsync(async () => await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE state IN ('pending', 'running')") == 0,
            "every operation ended", TimeSpan.FromSeconds(60));

        Assert.True(heldByTheDying > 0, "the dying replica held no operation when it died");
        var reader = survivor.AdminClient();
        foreach (var (id, op) in workspaces)
        {
            var operation = (await reader.GetJsonAsync($"/operations/{op}"))!;
            Assert.Equal("succeeded", (string?)operation["state"]);
            Assert.Equal("online", (string?)(await reader.GetJsonAsync($"/workspaces/{id}"))!["status"]);
            Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
            Assert.Equal(1, await database.ScalarAsync<long>(
                "SELECT count(*) FROM sim_instances WHERE tags->>'molecule:workspace-id' = $1 AND state <> 'terminated'", id));
        }

        Assert.Empty(steps.OperationsWalkedByTwoAtOnce());
        var adoptions = (await survivor.Services.GetRequiredService<EventStore>().ListByTypeAsync(EventTypes.OperationAdopted, 100, CancellationToken.None))
            .Where(e => (string?)e.Payload["previous_lease_holder"] == dyingReplica)
            .ToList();
        Assert.Equal(heldByTheDying, adoptions.Count);
        Assert.All(adoptions, a => Assert.StartsWith($"local:{survivorReplica}:", (string?)a.Payload["execution_arn"]));
        var adoptedWithin = adoptions.Max(a => a.CreatedAt) - diedAt;
        output.WriteLine($"{adoptions.Count} operations adopted within {adoptedWithin.TotalSeconds:F1} s of the replica's death (lease {leaseSeconds} s)");
        // a lease expires at most one lease after the last renewal; the survivor scans every third of it (plus a slow machine's slack)
        Assert.True(adoptedWithin < TimeSpan.FromSeconds(leaseSeconds * 4 / 3 + 6), $"adopted only after {adoptedWithin}");
    }

    [Fact]
    public async Task Two_live_replicas_never_walk_one_operation_together()
    {
        // operations nobody holds yet (their hand-off was lost): both replicas race to resume them at start
        var unheld = await CreateUndispatchedAsync(30);
        var replicas = new[] { Host(leaseSeconds: 10), Host(leaseSeconds: 10) };
        await using var first = replicas[0];
        await using var second = replicas[1];
        await Task.WhenAll(replicas.Select(r => Task.Run(() => r.Services)));

        // and operations that arrive through both at once
        var created = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(async () =>
        {
            using var response = await replicas[i % 2].AdminClient().PostAsJsonAsync("/workspaces", new { name = $"live-{i}" });
            Assert.Equal(System.Net.HttpStatusCode.Created, response.StatusCode);
            return Guid.Parse((string)(await response.Content.ReadFromJsonAsync<System.Text.Json.Nodes.JsonObject>())!["operation"]!["id"]!);
        })));
        await WaitUntilAsync(async () => await database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE state IN ('pending', 'running')") == 0,
            "every operation ended", TimeSpan.FromSeconds(60));

        var all = unheld.Concat(created).ToList();
        var walkers = steps.Runs.GroupBy(r => r.OperationId).ToDictionary(g => g.Key, g => g.Select(r => r.ExecutionId).Distinct().ToList());
        foreach (var op in all)
        {
            var executions = walkers[op];
            Assert.True(executions.Count == 1, $"operation {op} was walked by {string.Join(", ", executions)}");
            Assert.Equal(1, await database.ScalarAsync<long>("SELECT count(*) FROM sim_instances WHERE client_token = $1", op.ToString()));
            Assert.Equal("succeeded", await database.ScalarAsync<string>("SELECT state FROM operations WHERE id = $1", op));
        }

        Assert.Empty(steps.OperationsWalkedByTwoAtOnce());
        var byReplica = all.GroupBy(op => walkers[op][0].Split(':')[1]).ToDictionary(g => g.Key, g => g.Count());
        output.WriteLine("operations walked per replica: " + string.Join(", ", byReplica.Select(kv => $"{kv.Key}={kv.Value}")));
        Assert.Equal(2, byReplica.Count);
    }

    private ApiFactory Host(double leaseSeconds, string? connectionString = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Molecule:Operations:LeaseSeconds"] = leaseSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
            // boxes boot for a while, so walks are in flight when a replica dies
            ["Molecule:Providers:sim-east:BootSeconds"] = "3",
            ["Molecule:Providers:sim-west:BootSeconds"] = "3",
        };
        if (connectionString is not null)
        {
            settings["ConnectionStrings:Postgres"] = connectionString;
        }

        return new ApiFactory(database, settings,
            services => services.AddSingleton<IStepExecutor>(sp => steps.Wrap(sp.GetRequiredService<StepExecutor>())));
    }

    private static string ReplicaOf(ApiFactory host) => host.Services.GetRequiredService<LocalOperationRunner>().ReplicaId;

    /// <summary>Pending operations with no lease and no hand-off, written on the real clock as a host would.</summary>
    private async Task<IReadOnlyList<Guid>> CreateUndispatchedAsync(int count)
    {
        var time = TimeProvider.System;
        var db = database.DataSource;
        var operations = new OperationStore(db, time);
        var creator = new WorkspaceCreator(db, new TokenStore(db, time), new EventStore(db, time), new RecordingDispatcher(operations),
            new IdempotencyTokenSealer([System.Security.Cryptography.RandomNumberGenerator.GetBytes(IdempotencyTokenSealer.KeyBytes)]),
            new OperationOptions(), time, NullLogger<WorkspaceCreator>.Instance);
        var ids = new List<Guid>();
        for (var i = 0; i < count; i++)
        {
            var result = await creator.CreateAsync(new NewWorkspace($"unheld-{i}", null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0),
                null, CancellationToken.None);
            ids.Add(result.Created!.OperationId!.Value);
        }

        return ids;
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static Task WaitUntilAsync(Func<Task<bool>> condition, string what, TimeSpan? within = null)
    {
        var limit = within ?? TimeSpan.FromSeconds(30);
        return Eventually.UntilAsync(condition, limit, TimeSpan.FromMilliseconds(50), $"not within {limit}: {what}");
    }

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();
}
