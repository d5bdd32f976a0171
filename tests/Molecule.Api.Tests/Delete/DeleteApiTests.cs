using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Delete;

public sealed class DeleteApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    private ApiFactory Factory => api.Factory;

    [Fact]
    public async Task Delete_of_a_leaf_answers_removed_and_then_410()
    {
        var client = Factory.AdminClient();
        var id = await OnlineAsync(client, new { name = "delete-leaf" });

        using var first = await client.DeleteAsync($"/workspaces/{id}");
        using var second = await client.DeleteAsync($"/workspaces/{id}");
        using var get = await client.GetAsync($"/workspaces/{id}");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var body = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        Assert.Equal("removed", (string?)body["status"]);
        Assert.Equal(0, (int?)body["cascade_deleted"]);
        Assert.Equal(HttpStatusCode.Gone, second.StatusCode);
        Assert.Equal("workspace removed", (string?)(await second.ProblemAsync())["error"]);
        Assert.Equal(HttpStatusCode.Gone, get.StatusCode);
    }

    [Fact]
    public async Task A_parent_with_children_needs_confirm_and_the_cascade_counts_them()
    {
        var client = Factory.AdminClient();
        var parent = await OnlineAsync(client, new { name = "delete-parent" });
        var child = await OnlineAsync(client, new { name = "delete-child", parent_id = parent });
        await OnlineAsync(client, new { name = "delete-grandchild", parent_id = child });
        var before = await Database.FingerprintAsync();

        using var refused = await client.DeleteAsync($"/workspaces/{parent}");
        var unchanged = await Database.FingerprintAsync();
        using var confirmed = await client.DeleteAsync($"/workspaces/{parent}?confirm=true");

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        var problem = await refused.ProblemAsync();
        Assert.Equal("CONFIRMATION_REQUIRED", (string?)problem["error"]);
        Assert.Equal(2, (int?)problem["children_count"]);
        Assert.Equal(2, problem["children"]!.AsArray().Count);
        Assert.Equal(before, unchanged);
        Assert.Equal(HttpStatusCode.OK, confirmed.StatusCode);
        Assert.Equal(2, (int?)JsonNode.Parse(await confirmed.Content.ReadAsStringAsync())!["cascade_deleted"]);
    }

    [Fact]
    public async Task A_confirm_name_header_that_differs_is_a_400_and_changes_nothing()
    {
        var client = Factory.AdminClient();
        var id = await OnlineAsync(client, new { name = "confirm-by-name" });
        var before = await Database.FingerprintAsync();

        using var request = new HttpRequestMessage(HttpMethod.Delete, $"/workspaces/{id}");
        request.Headers.Add("X-Confirm-Name", "some-other-name");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("CONFIRM_NAME_MISMATCH", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task The_token_of_a_removed_workspace_stops_working()
    {
        var client = Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = "token-dies" });
        var id = (string)created["id"]!;
        var own = Factory.ClientWithToken((string)created["auth_token"]!);
        await client.WaitForStatusAsync(id, "online");
        using var before = await own.GetAsync($"/workspaces/{id}");

        using var deleted = await own.DeleteAsync($"/workspaces/{id}");
        using var after = await own.GetAsync($"/workspaces/{id}");

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Fact]
    public async Task Another_workspaces_token_cannot_delete()
    {
        var client = Factory.AdminClient();
        var target = await OnlineAsync(client, new { name = "delete-target" });
        var other = await client.CreateWorkspaceAsync(new { name = "delete-other" });

        using var response = await Factory.ClientWithToken((string)other["auth_token"]!).DeleteAsync($"/workspaces/{target}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("online", (string?)(await client.GetJsonAsync($"/workspaces/{target}"))!["status"]);
    }

    [Fact]
    public async Task Terminate_that_keeps_failing_answers_503_with_retry_after_and_the_pending_boxes()
    {
        var client = Factory.AdminClient();
        var id = await OnlineAsync(client, new { name = "terminate-pending" });
        var box = (string)(await client.GetJsonAsync($"/workspaces/{id}"))!["instance_id"]!;
        Factory.Sim("sim-east").Faults.Set(SimCall.Terminate, new SimFault(1, 0, 0));
        try
        {
            using var response = await client.DeleteAsync($"/workspaces/{id}");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("60", response.Headers.GetValues("Retry-After").Single());
            var problem = await response.ProblemAsync();
            Assert.Equal("TERMINATE_PENDING", (string?)problem["error"]);
            Assert.Equal(1, (int?)problem["removed_count"]);
            Assert.Equal(box, (string?)problem["pending"]![0]!["instance_id"]);
            Assert.Equal(box, await Database.ScalarAsync<string>("SELECT instance_id FROM workspaces WHERE id = $1::uuid", id));
        }
        finally
        {
            Factory.Sim("sim-east").Faults.Clear();
        }

        using var retried = await client.DeleteAsync($"/workspaces/{id}");
        Assert.Equal(HttpStatusCode.Gone, retried.StatusCode);
        Assert.Null(await Database.ScalarAsync<string?>("SELECT instance_id FROM workspaces WHERE id = $1::uuid", id));
    }

    [Fact]
    public async Task Unknown_and_malformed_ids_are_404_and_400()
    {
        var client = Factory.AdminClient();

        using var unknown = await client.DeleteAsync($"/workspaces/{Guid.NewGuid()}");
        using var malformed = await client.DeleteAsync("/workspaces/not-a-uuid");
        using var badConfirm = await client.DeleteAsync($"/workspaces/{Guid.NewGuid()}?confirm=yes");

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badConfirm.StatusCode);
    }

    private static async Task<string> OnlineAsync(HttpClient client, object body)
    {
        var id = (string)(await client.CreateWorkspaceAsync(body))["id"]!;
        await client.WaitForStatusAsync(id, "online");
        return id;
    }
}
