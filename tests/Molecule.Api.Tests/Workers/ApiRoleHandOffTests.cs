using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations.DynamoDb;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// Role <c>api</c> as it runs in AWS: a request hands its operation to the dispatch table (dynalite here) and
/// answers; nothing in the process walks it. A lost hand-off never fails the request. <c>GET /operations/{id}</c>
/// links a Step Functions execution to its console page.
/// </summary>
public sealed class ApiRoleHandOffTests(TestDatabase database, DynaliteServer dynalite)
    : IClassFixture<TestDatabase>, IClassFixture<DynaliteServer>
{
    [Fact]
    public async Task A_create_hands_its_operation_to_the_dispatch_table_and_leaves_it_pending_for_the_state_machine()
    {
        await using var factory = ApiHost(dynalite.Options());
        var client = factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("handed-off") });

        var operationId = Guid.Parse((string)created["operation"]!["id"]!);
        var item = await dynalite.ItemAsync(operationId);
        Assert.NotNull(item);
        Assert.Equal((string?)created["id"], item["workspace_id"].S);
        Assert.Equal("create", item["kind"].S);
        Assert.Equal("1", item["dispatch_count"].N);
        var operation = (await client.GetJsonAsync($"/operations/{operationId}"))!.AsObject();
        Assert.Equal("pending", (string?)operation["state"]);
        Assert.Equal(1, (int)operation["dispatch_count"]!);
        Assert.Null((string?)operation["console_url"]);
    }

    [Fact]
    public async Task A_lost_hand_off_still_answers_201_at_once_and_leaves_the_operation_pending()
    {
        await using var factory = ApiHost(new DynamoDbDispatchOptions { TableName = DynaliteServer.TableName, ServiceUrl = $"http://127.0.0.1:{LoopbackPort.Free()}", TimeoutSeconds = 1 });
        var client = factory.AdminClient();
        var clock = Stopwatch.StartNew();

        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("lost-hand-off") });

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the create took {clock.Elapsed}");
        var operation = (await client.GetJsonAsync($"/operations/{(string)created["operation"]!["id"]!}"))!.AsObject();
        Assert.Equal("pending", (string?)operation["state"]);
        Assert.Null(await dynalite.ItemAsync(Guid.Parse((string)operation["id"]!)));
    }

    [Fact]
    public async Task An_operation_walked_by_step_functions_links_to_its_execution_in_the_console()
    {
        await using var factory = ApiHost(dynalite.Options());
        var client = factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("console") });
        var operationId = (string)created["operation"]!["id"]!;
        const string arn = "arn:aws:states:eu-west-1:123456789012:execution:workspace-operation:0b7e3a2c-5d4f-4e51-9a57-2f0a1c6e9d11";
        await database.ExecuteAsync("UPDATE operations SET execution_arn = $2 WHERE id = $1", Guid.Parse(operationId), arn);

        var operation = (await client.GetJsonAsync($"/operations/{operationId}"))!.AsObject();

        Assert.Equal(arn, (string?)operation["execution_arn"]);
        Assert.Equal($"https://eu-west-1.console.aws.amazon.com/states/home?region=eu-west-1#/v2/executions/details/{arn}",
            (string?)operation["console_url"]);
    }

    private ApiFactory ApiHost(DynamoDbDispatchOptions options) => new(database, new Dictionary<string, string?>
    {
        ["Molecule:Role"] = "api",
        ["Molecule:Dispatch:Mode"] = "dynamodb",
        ["Molecule:Dispatch:TableName"] = options.TableName,
        ["Molecule:Dispatch:ServiceUrl"] = options.ServiceUrl,
        ["Molecule:Dispatch:TimeoutSeconds"] = options.TimeoutSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }, services => services.AddSingleton(_ => DynaliteServer.CreateClient(options)));
}
