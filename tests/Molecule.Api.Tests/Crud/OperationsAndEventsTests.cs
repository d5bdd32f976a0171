using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Crud;

/// <summary><c>GET /operations/{id}</c> and <c>GET /workspaces/{id}/events</c>.</summary>
public sealed class OperationsAndEventsTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static readonly string[] OperationFields =
    [
        "id", "workspace_id", "kind", "state", "step", "error", "execution_arn", "console_url", "dispatch_count",
        "created_at", "started_at", "finished_at",
    ];

    [Fact]
    public async Task Operation_answers_every_field_of_the_contract()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("op") });
        var operationId = (string)created["operation"]!["id"]!;

        var operation = await client.WaitForOperationEndAsync(operationId);

        Assert.Superset(OperationFields.ToHashSet(), operation.Select(p => p.Key).ToHashSet());
        Assert.Equal(operationId, (string?)operation["id"]);
        Assert.Equal((string?)created["id"], (string?)operation["workspace_id"]);
        Assert.Equal("create", (string?)operation["kind"]);
        Assert.Equal("succeeded", (string?)operation["state"]);
        Assert.Null((string?)operation["error"]);
        Assert.Null((string?)operation["console_url"]);
        Assert.NotNull((string?)operation["finished_at"]);
    }

    [Fact]
    public async Task Own_token_reads_its_workspace_operation()
    {
        var created = await api.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("own-op") });
        var client = api.Factory.ClientWithToken((string)created["auth_token"]!);

        var operation = (await client.GetJsonAsync($"/operations/{created["operation"]!["id"]}"))!;

        Assert.Equal((string?)created["id"], (string?)operation["workspace_id"]);
    }

    [Fact]
    public async Task An_unknown_operation_gets_404()
    {
        var client = api.Factory.AdminClient();

        using var response = await client.GetAsync($"/operations/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NOT_FOUND", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task Events_of_a_create_are_newest_first_from_created_to_succeeded()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("events") });

        var events = (await client.GetJsonAsync($"/workspaces/{created["id"]}/events"))!.AsArray();

        var ids = events.Select(e => (long)e!["id"]!).ToList();
        Assert.Equal(ids.OrderDescending(), ids);
        Assert.Equal("workspace.created", (string?)events[^1]!["event_type"]);
        Assert.Equal("workspace.operation.succeeded", (string?)events[0]!["event_type"]);
        Assert.All(events, e => Assert.Equal((string?)created["id"], (string?)e!["workspace_id"]));
        Assert.Equal((string?)created["operation"]!["id"], (string?)events[0]!["operation_id"]);
    }

    [Fact]
    public async Task Events_limit_returns_only_the_newest()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("events-limit") });
        var all = (await client.GetJsonAsync($"/workspaces/{created["id"]}/events"))!.AsArray();

        var two = (await client.GetJsonAsync($"/workspaces/{created["id"]}/events?limit=2"))!.AsArray();

        Assert.True(all.Count > 2, $"a create should log more than two events: {all.ToJsonString()}");
        Assert.Equal(all.Take(2).Select(e => (long)e!["id"]!), two.Select(e => (long)e!["id"]!));
    }

    [Fact]
    public async Task Events_carry_the_created_payload()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("payload");
        var created = await client.CreateWorkspaceAsync(new { name, runtime = "external" });

        var events = (await client.GetJsonAsync($"/workspaces/{created["id"]}/events"))!.AsArray();

        var payload = Assert.Single(events)!["payload"]!;
        Assert.Equal(name, (string?)payload["name"]);
        Assert.Equal("external", (string?)payload["runtime"]);
    }

    [Fact]
    public async Task Own_token_reads_its_events()
    {
        var created = await api.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("own-events"), runtime = "external" });
        var client = api.Factory.ClientWithToken((string)created["auth_token"]!);

        var events = (await client.GetJsonAsync($"/workspaces/{created["id"]}/events"))!.AsArray();

        Assert.Single(events);
    }
}
