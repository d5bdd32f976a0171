using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Operations;

public sealed class LifecycleApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    private ApiFactory Factory => api.Factory;

    [Fact]
    public async Task A_restart_asked_for_during_another_operation_answers_that_operation()
    {
        await using var host = await IsolatedHost.StartAsync(new Dictionary<string, string?> { ["Molecule:Providers:sim-east:BootSeconds"] = "2" });
        var client = host.Factory.AdminClient();
        var id = (string)(await client.CreateWorkspaceAsync(new { name = "restart-twice" }))["id"]!;
        await client.WaitForStatusAsync(id, "online");

        using var first = await client.PostAsync($"/workspaces/{id}/restart", null);
        using var second = await client.PostAsync($"/workspaces/{id}/restart", null);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        var firstOp = (string?)JsonNode.Parse(await first.Content.ReadAsStringAsync())!["operation"]!["id"];
        var secondOp = (string?)JsonNode.Parse(await second.Content.ReadAsStringAsync())!["operation"]!["id"];
        Assert.Equal(firstOp, secondOp);
        Assert.Equal(1, await host.Database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1::uuid AND kind = 'restart'", id));
        await client.WaitForOperationEndAsync(firstOp!);
    }

    [Fact]
    public async Task Resume_of_an_online_workspace_is_invalid_state_with_the_http_code_and_the_workspaces_status_apart()
    {
        var client = Factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("resume-online") });
        var before = await Database.FingerprintAsync();

        using var response = await client.PostAsync($"/workspaces/{created["id"]}/resume", null);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal("INVALID_STATE", (string?)problem["error"]);
        Assert.Equal(409, (int?)problem["status"]);
        Assert.Equal("online", (string?)problem["workspace_status"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task Restart_of_an_external_workspace_is_a_noop()
    {
        var client = Factory.AdminClient();
        var id = (string)(await client.CreateWorkspaceAsync(new { name = "restart-external", runtime = "external" }))["id"]!;

        using var response = await client.PostAsync($"/workspaces/{id}/restart", null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("noop", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
    }

    [Fact]
    public async Task Pause_of_a_parent_needs_cascade_and_then_pauses_the_whole_subtree()
    {
        var client = Factory.AdminClient();
        var (parent, children) = await TreeAsync(client, "pause-tree");
        var before = await Database.FingerprintAsync();

        using var refused = await client.PostAsync($"/workspaces/{parent}/pause", null);
        var unchanged = await Database.FingerprintAsync();
        using var cascaded = await client.PostAsync($"/workspaces/{parent}/pause?cascade=true", null);

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.ProblemAsync();
        Assert.Equal("DESCENDANTS", (string?)problem["error"]);
        Assert.Equal(3, (int?)problem["children_count"]);
        Assert.Equal(before, unchanged);
        Assert.Equal(HttpStatusCode.Accepted, cascaded.StatusCode);
        foreach (var id in children.Prepend(parent))
        {
            var paused = await client.WaitForStatusAsync(id, "paused");
            Assert.Null((string?)paused["instance_id"]);
        }
    }

    [Fact]
    public async Task Resume_under_a_paused_parent_is_refused_and_cascade_resume_brings_everything_back()
    {
        var client = Factory.AdminClient();
        var (parent, children) = await TreeAsync(client, "resume-tree");
        using var pause = await client.PostAsync($"/workspaces/{parent}/pause?cascade=true", null);
        foreach (var id in children.Prepend(parent))
        {
            await client.WaitForStatusAsync(id, "paused");
        }

        using var childResume = await client.PostAsync($"/workspaces/{children[^1]}/resume", null);
        using var resume = await client.PostAsync($"/workspaces/{parent}/resume?cascade=true", null);

        Assert.Equal(HttpStatusCode.Conflict, childResume.StatusCode);
        Assert.Equal("PARENT_PAUSED", (string?)(await childResume.ProblemAsync())["error"]);
        Assert.Equal(HttpStatusCode.Accepted, resume.StatusCode);
        foreach (var id in children.Prepend(parent))
        {
            Assert.NotNull((string?)(await client.WaitForStatusAsync(id, "online"))["instance_id"]);
        }
    }

    [Fact]
    public async Task Pause_of_a_leaf_needs_no_cascade()
    {
        var client = Factory.AdminClient();
        var id = (string)(await client.CreateWorkspaceAsync(new { name = "pause-leaf" }))["id"]!;
        await client.WaitForStatusAsync(id, "online");

        using var response = await client.PostAsync($"/workspaces/{id}/pause", null);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await client.WaitForStatusAsync(id, "paused");
        var state = (await client.GetJsonAsync($"/workspaces/{id}/state"))!;
        Assert.True((bool)state["paused"]!);
    }

    [Fact]
    public async Task Stuck_operations_are_listed_oldest_first()
    {
        var client = Factory.AdminClient();
        var id = (string)(await client.CreateWorkspaceAsync(new { name = "stuck-listing" }))["id"]!;
        await client.WaitForStatusAsync(id, "online");
        // an operation whose claim expired an hour ago, as a crashed runner would leave it
        var stuckOp = Guid.NewGuid();
        await Database.ExecuteAsync("""
            INSERT INTO operations (id, workspace_id, kind, state, created_at, updated_at) VALUES ($1, $2::uuid, 'restart', 'running', now() - interval '2 hours', now());
            """, stuckOp, id);
        await Database.ExecuteAsync("UPDATE workspaces SET claim_id = $1, claim_kind = 'restart', claim_expires_at = now() - interval '1 hour', status = 'provisioning' WHERE id = $2::uuid", stuckOp, id);

        var stuck = (await client.GetJsonAsync("/operations?state=stuck"))!.AsArray();
        using var badState = await client.GetAsync("/operations?state=running");

        Assert.Contains(stuck, op => (string?)op!["id"] == stuckOp.ToString());
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
    }

    private static async Task<(string Parent, List<string> Children)> TreeAsync(HttpClient client, string prefix)
    {
        var parent = (string)(await client.CreateWorkspaceAsync(new { name = prefix }))["id"]!;
        var child = (string)(await client.CreateWorkspaceAsync(new { name = $"{prefix}-child", parent_id = parent }))["id"]!;
        var sibling = (string)(await client.CreateWorkspaceAsync(new { name = $"{prefix}-sibling", parent_id = parent }))["id"]!;
        var grandchild = (string)(await client.CreateWorkspaceAsync(new { name = $"{prefix}-grandchild", parent_id = child }))["id"]!;
        var all = new List<string> { child, sibling, grandchild };
        foreach (var id in all.Prepend(parent))
        {
            await client.WaitForStatusAsync(id, "online");
        }

        return (parent, all);
    }
}
