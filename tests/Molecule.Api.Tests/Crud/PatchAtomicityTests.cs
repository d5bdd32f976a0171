using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Crud;

/// <summary>
/// A PATCH that changes <c>compute.provider</c> and other fields applies whole or not at all: the fields are written by
/// the statement that claims the workspace for the switch, so a taken name refuses the switch too, and a switch that
/// cannot start leaves the name alone. A null for a field that cannot be cleared is a 400.
/// </summary>
public sealed class PatchAtomicityTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    [Fact]
    public async Task A_taken_name_refuses_the_switch_too_and_changes_nothing()
    {
        var client = api.Factory.AdminClient();
        var taken = ApiCalls.UniqueName("taken");
        await client.CreateSettledWorkspaceAsync(new { name = taken });
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("mover") });
        var before = await Database.FingerprintAsync();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}",
            new JsonObject { ["name"] = taken, ["compute"] = new JsonObject { ["provider"] = "sim-west" } }.ToJsonString());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("NAME_TAKEN", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task A_free_name_and_a_switch_apply_together()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("mover") });
        var renamed = ApiCalls.UniqueName("moved");

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}",
            new JsonObject { ["name"] = renamed, ["x"] = 42, ["compute"] = new JsonObject { ["provider"] = "sim-west" } }.ToJsonString());
        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        await client.WaitForOperationEndAsync((string)answer["operation"]!["id"]!);
        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(renamed, (string?)body["name"]);
        Assert.Equal(42, (double)body["x"]!);
        Assert.Equal("sim-west", (string?)body["compute"]!["provider"]);
        Assert.Equal(1L, await Database.ScalarAsync<long>(
            "SELECT count(*) FROM structure_events WHERE workspace_id = $1 AND event_type = 'workspace.updated'", Guid.Parse((string)created["id"]!)));
    }

    [Fact]
    public async Task A_switch_that_cannot_start_leaves_the_name_alone()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("persisting"), compute = new { data_persistence = "persist" } });
        var before = await Database.FingerprintAsync();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}",
            new JsonObject { ["name"] = ApiCalls.UniqueName("never"), ["compute"] = new JsonObject { ["provider"] = "sim-west" } }.ToJsonString());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("DATA_LOSS_UNCONFIRMED", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Theory]
    [InlineData("name")]
    [InlineData("x")]
    [InlineData("collapsed")]
    [InlineData("compute")]
    public async Task A_null_for_a_field_that_cannot_be_cleared_is_a_400_and_changes_nothing(string field)
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("nulled") });
        var before = await Database.FingerprintAsync();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}", $$"""{"{{field}}": null}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }
}
