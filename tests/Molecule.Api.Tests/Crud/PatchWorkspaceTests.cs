using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Crud;

/// <summary><c>PATCH /workspaces/{id}</c>: name and canvas fields, with an optional compare-and-set on <c>If-Match</c>.</summary>
public sealed class PatchWorkspaceTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Patch_updates_name_x_y_and_collapsed_and_bumps_the_version()
    {
        var client = api.Factory.AdminClient();
        var (id, version) = await CreateAsync(client);
        var name = ApiCalls.UniqueName("renamed");

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}",
            new JsonObject { ["name"] = name, ["x"] = 10.5, ["y"] = -3, ["collapsed"] = true }.ToJsonString());

        var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        var body = (await client.GetJsonAsync($"/workspaces/{id}"))!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("updated", (string?)answer["status"]);
        Assert.Equal(version + 1, (int)answer["version"]!);
        Assert.Equal($"\"{version + 1}\"", response.Headers.ETag?.ToString());
        Assert.Equal(name, (string?)body["name"]);
        Assert.Equal(10.5, (double)body["x"]!);
        Assert.Equal(-3, (double)body["y"]!);
        Assert.True((bool)body["collapsed"]!);
    }

    [Fact]
    public async Task Patch_leaves_fields_it_does_not_name_alone()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("partial");
        var created = await client.CreateWorkspaceAsync(new { name, runtime = "external", x = 5, y = 6 });

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}", """{"collapsed":true}""");

        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(name, (string?)body["name"]);
        Assert.Equal(5, (double)body["x"]!);
        Assert.Equal(6, (double)body["y"]!);
    }

    [Fact]
    public async Task Patch_with_the_current_version_in_if_match_updates()
    {
        var client = api.Factory.AdminClient();
        var (id, version) = await CreateAsync(client);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":1}""",
            new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task A_weak_etag_in_if_match_is_accepted()
    {
        var client = api.Factory.AdminClient();
        var (id, version) = await CreateAsync(client);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":2}""",
            new Dictionary<string, string> { ["If-Match"] = $"W/\"{version}\"" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Patch_with_a_stale_if_match_gets_412_and_changes_nothing()
    {
        var client = api.Factory.AdminClient();
        var (id, version) = await CreateAsync(client);
        using var first = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":1}""");
        var before = await api.Database.FingerprintAsync();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":99}""",
            new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" });

        var problem = await response.ProblemAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("VERSION_MISMATCH", (string?)problem["error"]);
        Assert.Equal(version + 1, (int)problem["current_version"]!);
        Assert.Equal(before, await api.Database.FingerprintAsync());
    }

    [Fact]
    public async Task Of_two_editors_with_the_same_version_exactly_one_wins()
    {
        var client = api.Factory.AdminClient();
        var (id, version) = await CreateAsync(client);
        var ifMatch = new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" };

        var answers = await Task.WhenAll(
            client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":100}""", ifMatch),
            client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"x":200}""", ifMatch));

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], answers.Select(a => a.StatusCode).Order());
        Assert.Equal(version + 1, await api.Database.ScalarAsync<int>("SELECT version FROM workspaces WHERE id = $1", Guid.Parse(id)));
    }

    [Fact]
    public async Task Patch_of_compute_instance_type_gets_400_validation_naming_compute_and_changes_nothing()
    {
        var client = api.Factory.AdminClient();
        var (id, _) = await CreateAsync(client);
        var before = await api.Database.FingerprintAsync();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", """{"name":"with-compute","compute":{"instance_type":"t3.large"}}""");

        var problem = await response.ProblemAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("VALIDATION", (string?)problem["error"]);
        Assert.Contains("compute", (string?)problem["detail"]);
        Assert.Equal(before, await api.Database.FingerprintAsync());
    }

    [Fact]
    public async Task Renaming_to_a_live_sibling_name_gets_409_name_taken()
    {
        var client = api.Factory.AdminClient();
        var taken = ApiCalls.UniqueName("sibling");
        await client.CreateWorkspaceAsync(new { name = taken, runtime = "external" });
        var (id, _) = await CreateAsync(client);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{id}", new JsonObject { ["name"] = taken }.ToJsonString());

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("NAME_TAKEN", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task Own_token_patches_its_workspace()
    {
        var created = await api.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("own-patch"), runtime = "external" });
        var client = api.Factory.ClientWithToken((string)created["auth_token"]!);

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{created["id"]}", """{"x":42}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(42.0, await api.Database.ScalarAsync<double>("SELECT x FROM workspaces WHERE id = $1", Guid.Parse((string)created["id"]!)));
    }

    [Fact]
    public async Task Patch_of_an_unknown_workspace_gets_404()
    {
        var client = api.Factory.AdminClient();

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{Guid.NewGuid()}", """{"x":1}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("NOT_FOUND", (string?)(await response.ProblemAsync())["error"]);
    }

    private static async Task<(string Id, int Version)> CreateAsync(HttpClient client)
    {
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("patch"), runtime = "external" });
        var body = (await client.GetJsonAsync($"/workspaces/{created["id"]}"))!;
        return ((string)created["id"]!, (int)body["version"]!);
    }
}
