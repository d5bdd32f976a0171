using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.DynamoDBv2.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Operations.DynamoDb;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Workspaces.Tests.Operations;

/// <summary>
/// The DynamoDB hand-off against dynalite (started by the test from infra/checks; it has no streams, so each test
/// reads the item back) and the real Postgres: one item per operation, rewritten with a higher
/// <c>dispatch_count</c> by each re-dispatch, never overwritten by an older hand-off, and a lost hand-off that
/// leaves the operation pending without failing the request.
/// </summary>
public sealed class DynamoDbDispatcherTests(TestDatabase database, DynaliteServer dynalite)
    : IClassFixture<TestDatabase>, IClassFixture<DynaliteServer>
{
    private readonly OperationHarness harness = new(database);

    [Fact]
    public async Task The_first_hand_off_writes_the_operation_with_dispatch_count_1_and_a_one_day_ttl()
    {
        var before = DateTimeOffset.UtcNow;

        var (workspaceId, op) = await CreateWith(Dispatcher(), "first-hand-off");

        var item = await dynalite.ItemAsync(op);
        Assert.NotNull(item);
        Assert.Equal(op.ToString(), item["operation_id"].S);
        Assert.Equal(workspaceId.ToString(), item["workspace_id"].S);
        Assert.Equal(OperationKind.Create, item["kind"].S);
        Assert.Equal("1", item["dispatch_count"].N);
        var expiresAt = long.Parse(item["expires_at"].N);
        Assert.InRange(expiresAt, (before + TimeSpan.FromDays(1)).ToUnixTimeSeconds(), (DateTimeOffset.UtcNow + TimeSpan.FromDays(1)).ToUnixTimeSeconds());
        Assert.Equal(1, (await harness.OperationAsync(op)).DispatchCount);
    }

    [Fact]
    public async Task A_re_dispatch_writes_the_item_again_with_a_higher_dispatch_count()
    {
        var dispatcher = Dispatcher();
        var (_, op) = await CreateWith(dispatcher, "re-dispatch");

        await dispatcher.DispatchAsync(op, CancellationToken.None);

        Assert.Equal("2", (await dynalite.ItemAsync(op))!["dispatch_count"].N);
        Assert.Equal(2, (await harness.OperationAsync(op)).DispatchCount);
    }

    [Fact]
    public async Task An_older_hand_off_never_overwrites_a_newer_one()
    {
        var dispatcher = Dispatcher();
        var (_, op) = await CreateWith(dispatcher, "older-hand-off");
        using var client = dynalite.CreateClient();
        await client.PutItemAsync(new PutItemRequest
        {
            TableName = DynaliteServer.TableName,
            Item = new Dictionary<string, AttributeValue>
            {
                ["operation_id"] = new() { S = op.ToString() },
                ["dispatch_count"] = new() { N = "7" },
            },
        });

        // counted as hand-off 2 in Postgres, which is older than the 7 already in the table
        await dispatcher.DispatchAsync(op, CancellationToken.None);

        Assert.Equal("7", (await dynalite.ItemAsync(op))!["dispatch_count"].N);
    }

    [Fact]
    public async Task Many_concurrent_hand_offs_leave_the_newest_in_the_table()
    {
        var dispatcher = Dispatcher();
        var (_, op) = await CreateWith(dispatcher, "concurrent-hand-offs");

        await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => dispatcher.DispatchAsync(op, CancellationToken.None))));

        var newest = (await harness.OperationAsync(op)).DispatchCount;
        Assert.Equal(21, newest);
        Assert.Equal(newest.ToString(), (await dynalite.ItemAsync(op))!["dispatch_count"].N);
    }

    [Fact]
    public async Task A_hand_off_to_a_table_that_is_down_leaves_the_operation_pending_and_the_create_succeeds()
    {
        var options = new DynamoDbDispatchOptions { TableName = DynaliteServer.TableName, ServiceUrl = $"http://127.0.0.1:{LoopbackPort.Free()}", TimeoutSeconds = 2 };
        var clock = Stopwatch.StartNew();

        var (workspaceId, op) = await CreateWith(Dispatcher(options), "table-down");

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"the failed hand-off held the request for {clock.Elapsed}");
        Assert.Equal(OperationState.Pending, (await harness.OperationAsync(op)).State);
        Assert.Equal(op, (await harness.WorkspaceAsync(workspaceId)).ClaimId);
        Assert.Null(await dynalite.ItemAsync(op));
    }

    [Fact]
    public async Task A_hand_off_to_a_table_that_never_answers_times_out_and_the_create_succeeds()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var options = new DynamoDbDispatchOptions
        {
            TableName = DynaliteServer.TableName,
            ServiceUrl = $"http://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}",
            TimeoutSeconds = 1,
        };
        var clock = Stopwatch.StartNew();

        var (_, op) = await CreateWith(Dispatcher(options), "table-silent");

        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(4));
        Assert.Equal(OperationState.Pending, (await harness.OperationAsync(op)).State);
        await Assert.ThrowsAsync<TimeoutException>(() => Dispatcher(options).DispatchAsync(op, CancellationToken.None));
    }

    [Fact]
    public void Options_without_a_table_refuse_to_start()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new DynamoDbDispatchOptions().Validate());

        Assert.Contains("Molecule:Dispatch:TableName", error.Message);
    }

    [Fact]
    public void The_client_retries_once_within_the_hand_off_timeout()
    {
        var config = DynamoDbClientFactory.CreateConfig(new DynamoDbDispatchOptions { TableName = "t", TimeoutSeconds = 2, ServiceUrl = "http://127.0.0.1:1" });

        Assert.Equal(1, config.MaxErrorRetry);
        Assert.Equal(TimeSpan.FromSeconds(2), config.Timeout);
        Assert.Equal("http://127.0.0.1:1/", config.ServiceURL);
    }

    private DynamoDbOperationDispatcher Dispatcher(DynamoDbDispatchOptions? options = null)
    {
        options ??= dynalite.Options();
        return new DynamoDbOperationDispatcher(DynaliteServer.CreateClient(options), harness.Operations, options, TimeProvider.System,
            NullLogger<DynamoDbOperationDispatcher>.Instance);
    }

    private async Task<(Guid WorkspaceId, Guid OperationId)> CreateWith(IOperationDispatcher dispatcher, string name)
    {
        var creator = new WorkspaceCreator(database.DataSource, harness.Tokens, harness.Events, dispatcher, harness.Sealer, harness.Options, harness.Time,
            NullLogger<WorkspaceCreator>.Instance);
        var result = await creator.CreateAsync(new NewWorkspace(name, null, Runtimes.Default, 1, new Compute { Provider = "sim-east" }, 0, 0),
            null, CancellationToken.None);
        Assert.Equal(CreateOutcome.Created, result.Outcome);
        return (result.Created!.WorkspaceId, result.Created.OperationId!.Value);
    }
}
