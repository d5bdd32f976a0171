using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Crud;

/// <summary><c>POST /workspaces</c> and <c>GET /workspaces/{id}</c>, <c>/state</c>: the shapes of DESIGN §10.</summary>
public sealed class CreateAndReadTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private static readonly string[] WorkspaceFields =
    [
        "id", "name", "parent_id", "status", "runtime", "tier", "compute", "instance_id", "instance_provider", "url",
        "x", "y", "collapsed", "version", "operation", "created_at", "updated_at",
    ];

    [Fact]
    public async Task Create_answers_201_provisioning_with_a_token_an_operation_and_a_location()
    {
        var client = api.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", new JsonObject { ["name"] = ApiCalls.UniqueName("shape") }.ToJsonString());

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(Guid.TryParse((string?)body["id"], out _));
        Assert.Equal("provisioning", (string?)body["status"]);
        Assert.StartsWith("mws_", (string?)body["auth_token"]);
        Assert.Equal("create", (string?)body["operation"]!["kind"]);
        Assert.Equal($"/workspaces/{body["id"]}", response.Headers.Location?.ToString());
    }

    [Fact]
    public async Task Get_returns_every_field_of_the_workspace_body_in_snake_case()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("fields") });

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!.AsObject();

        Assert.Equal(WorkspaceFields.Order(), body.Select(p => p.Key).Order());
        Assert.Equal("agent", (string?)body["runtime"]);
        Assert.Equal(1, (int)body["tier"]!);
        Assert.Equal("sim-east", (string?)body["compute"]!["provider"]);
        Assert.Equal("ephemeral", (string?)body["compute"]!["data_persistence"]);
        Assert.Equal((string?)created["operation"]!["id"], (string?)body["operation"]!["id"]);
    }

    [Fact]
    public async Task Get_does_not_return_the_auth_token()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("no-token") });

        using var response = await client.GetAsync($"/workspaces/{created["id"]}");

        Assert.DoesNotContain((string)created["auth_token"]!, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_token_is_stored_only_as_its_hash()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("hashed") });
        var token = (string)created["auth_token"]!;

        var stored = await api.Database.ScalarAsync<string>("SELECT encode(token_sha256, 'hex') FROM workspace_tokens WHERE workspace_id = $1",
            Guid.Parse((string)created["id"]!));

        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), stored);
    }

    [Fact]
    public async Task Get_sends_the_version_as_the_etag()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("etag"), runtime = "external" });

        using var response = await client.GetAsync($"/workspaces/{created["id"]}");

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal($"\"{(int)body["version"]!}\"", response.Headers.ETag?.ToString());
    }

    [Fact]
    public async Task Create_stores_every_modelled_field()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("full");

        var created = await client.CreateWorkspaceAsync(new
        {
            name,
            tier = 3,
            x = 12.5,
            y = -40,
            compute = new { provider = "sim-west", instance_type = "t3.large", data_persistence = "persist", volume = new { root_gb = 50 } },
        });

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;
        Assert.Equal(name, (string?)body["name"]);
        Assert.Equal(3, (int)body["tier"]!);
        Assert.Equal(12.5, (double)body["x"]!);
        Assert.Equal(-40, (double)body["y"]!);
        Assert.Equal("sim-west", (string?)body["compute"]!["provider"]);
        Assert.Equal("t3.large", (string?)body["compute"]!["instance_type"]);
        Assert.Equal("persist", (string?)body["compute"]!["data_persistence"]);
        Assert.Equal(50, (int)body["compute"]!["volume"]!["root_gb"]!);
    }

    [Fact]
    public async Task Create_on_sim_west_comes_online_on_sim_west()
    {
        var client = api.Factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("west"), compute = new { provider = "sim-west" } });

        var online = await client.WaitForStatusAsync((string)created["id"]!, "online");
        Assert.Equal("sim-west", (string?)online["instance_provider"]);
        Assert.NotNull((string?)online["instance_id"]);
    }

    [Fact]
    public async Task Canvas_position_on_create_sets_x_and_y()
    {
        var client = api.Factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("canvas"), runtime = "external", canvas = new { x = 300, y = 150.25 } });

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;
        Assert.Equal(300, (double)body["x"]!);
        Assert.Equal(150.25, (double)body["y"]!);
    }

    [Fact]
    public async Task Fields_the_canvas_sends_but_the_control_plane_does_not_model_are_ignored()
    {
        var client = api.Factory.AdminClient();
        var body = new JsonObject
        {
            ["name"] = ApiCalls.UniqueName("canvas-extras"),
            ["runtime"] = "external",
            ["role"] = "researcher",
            ["template"] = "default",
            ["model"] = "claude",
            ["llm_provider"] = "anthropic",
            ["secrets"] = new JsonObject { ["API_KEY"] = "sk-xyz" },
            ["budget_limit"] = 12.5,
        };

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body.ToJsonString(),
            new Dictionary<string, string> { ["X-Molecule-Org-Slug"] = "acme" });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        // a secret the canvas sent is not kept anywhere
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("""
            SELECT (SELECT count(*) FROM workspaces w WHERE w::text LIKE '%sk-xyz%')
                 + (SELECT count(*) FROM structure_events e WHERE e::text LIKE '%sk-xyz%')
            """));
    }

    [Fact]
    public async Task An_external_workspace_is_offline_with_no_operation_and_no_box()
    {
        var client = api.Factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("external"), runtime = "external" });

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;
        Assert.Equal("offline", (string?)created["status"]);
        Assert.Null(created["operation"]);
        Assert.Equal("offline", (string?)body["status"]);
        Assert.Null((string?)body["instance_id"]);
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1", Guid.Parse((string)created["id"]!)));
    }

    [Fact]
    public async Task A_child_records_its_parent()
    {
        var client = api.Factory.AdminClient();
        var parent = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("parent"), runtime = "external" });

        var child = await client.CreateWorkspaceAsync(new { name = "child", parent_id = (string)parent["id"]!, runtime = "external" });

        var body = (await client.GetJsonAsync($"/workspaces/{child["id"]}"))!;
        Assert.Equal((string?)parent["id"], (string?)body["parent_id"]);
    }

    [Fact]
    public async Task The_same_name_under_different_parents_is_allowed()
    {
        var client = api.Factory.AdminClient();
        var first = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("p1"), runtime = "external" });
        var second = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("p2"), runtime = "external" });
        await client.CreateWorkspaceAsync(new { name = "shared-name", parent_id = (string)first["id"]!, runtime = "external" });

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            new JsonObject { ["name"] = "shared-name", ["parent_id"] = (string)second["id"]!, ["runtime"] = "external" }.ToJsonString());

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task A_taken_sibling_name_gets_409_name_taken()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("taken");
        await client.CreateWorkspaceAsync(new { name, runtime = "external" });

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", new JsonObject { ["name"] = name }.ToJsonString());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("NAME_TAKEN", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE name = $1", name));
    }

    [Fact]
    public async Task A_missing_parent_gets_404_parent_not_found()
    {
        var client = api.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            new JsonObject { ["name"] = ApiCalls.UniqueName("orphan"), ["parent_id"] = Guid.NewGuid().ToString() }.ToJsonString());

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("PARENT_NOT_FOUND", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task An_unknown_workspace_gets_404_not_found()
    {
        var client = api.Factory.AdminClient();

        using var response = await client.GetAsync($"/workspaces/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NOT_FOUND", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task State_answers_status_paused_and_deleted()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("state"), runtime = "external" });

        var state = (await client.GetJsonAsync($"/workspaces/{created["id"]}/state"))!.AsObject();

        Assert.Equal((string?)created["id"], (string?)state["workspace_id"]);
        Assert.Equal("offline", (string?)state["status"]);
        Assert.False((bool)state["paused"]!);
        Assert.False((bool)state["deleted"]!);
    }

    [Fact]
    public async Task State_of_a_paused_workspace_says_paused()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("paused"), runtime = "external" });
        await api.Database.ExecuteAsync("UPDATE workspaces SET status = 'paused' WHERE id = $1", Guid.Parse((string)created["id"]!));

        var state = (await client.GetJsonAsync($"/workspaces/{created["id"]}/state"))!;

        Assert.Equal("paused", (string?)state["status"]);
        Assert.True((bool)state["paused"]!);
    }

    [Fact]
    public async Task Own_token_reads_its_workspace()
    {
        var created = await api.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("own"), runtime = "external" });
        var client = api.Factory.ClientWithToken((string)created["auth_token"]!);

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;

        Assert.Equal((string?)created["id"], (string?)body["id"]);
    }
}
