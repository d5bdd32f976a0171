using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Crud;

/// <summary>
/// <c>GET /workspaces</c>: live workspaces oldest first, in keyset pages linked by <c>Link: rel="next"</c>. Each test
/// lists the children of its own parent, so the tests sharing this database never see each other's rows.
/// </summary>
public sealed class ListWorkspacesTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Following_next_links_visits_every_child_once_in_creation_order()
    {
        var client = api.Factory.AdminClient();
        var (parent, children) = await CreateFamilyAsync(client, 7);

        var visited = new List<string>();
        var pages = 0;
        string? next = $"/workspaces?parent_id={parent}&limit=3";
        while (next is not null)
        {
            using var response = await client.GetAsync(next);
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray();
            visited.AddRange(page.Select(w => (string)w!["id"]!));
            next = NextLink(response);
            pages++;
        }

        Assert.Equal(children, visited);
        Assert.Equal(3, pages);
    }

    [Fact]
    public async Task A_full_page_carries_a_next_link_that_keeps_the_filters()
    {
        var client = api.Factory.AdminClient();
        var (parent, _) = await CreateFamilyAsync(client, 3);

        using var response = await client.GetAsync($"/workspaces?parent_id={parent}&limit=2");

        var next = NextLink(response);
        Assert.NotNull(next);
        Assert.StartsWith("/workspaces?", next);
        Assert.Contains($"parent_id={parent}", next);
        Assert.Contains("limit=2", next);
        Assert.Contains("cursor=", next);
    }

    [Fact]
    public async Task A_short_page_has_no_next_link()
    {
        var client = api.Factory.AdminClient();
        var (parent, _) = await CreateFamilyAsync(client, 2);

        using var response = await client.GetAsync($"/workspaces?parent_id={parent}&limit=5");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Count);
        Assert.False(response.Headers.Contains("Link"));
    }

    [Fact]
    public async Task An_exact_multiple_ends_with_an_empty_page_without_a_link()
    {
        var client = api.Factory.AdminClient();
        var (parent, _) = await CreateFamilyAsync(client, 2);
        using var first = await client.GetAsync($"/workspaces?parent_id={parent}&limit=2");

        using var last = await client.GetAsync(NextLink(first)!);

        Assert.Empty(JsonNode.Parse(await last.Content.ReadAsStringAsync())!.AsArray());
        Assert.False(last.Headers.Contains("Link"));
    }

    [Fact]
    public async Task Removed_workspaces_are_not_listed()
    {
        var client = api.Factory.AdminClient();
        var (parent, children) = await CreateFamilyAsync(client, 3);
        await api.Database.ExecuteAsync("UPDATE workspaces SET status = 'removed', removed_at = now() WHERE id = $1", Guid.Parse(children[1]));

        var listed = (await client.GetJsonAsync($"/workspaces?parent_id={parent}"))!.AsArray();

        Assert.Equal([children[0], children[2]], listed.Select(w => (string)w!["id"]!));
    }

    [Fact]
    public async Task The_status_filter_lists_only_that_status()
    {
        var client = api.Factory.AdminClient();
        var (parent, children) = await CreateFamilyAsync(client, 3);
        await api.Database.ExecuteAsync("UPDATE workspaces SET status = 'failed' WHERE id = $1", Guid.Parse(children[2]));

        var failed = (await client.GetJsonAsync($"/workspaces?parent_id={parent}&status=failed"))!.AsArray();

        Assert.Equal(children[2], (string?)Assert.Single(failed)!["id"]);
    }

    [Fact]
    public async Task The_list_answers_the_workspace_body_with_its_latest_operation()
    {
        var client = api.Factory.AdminClient();
        var parent = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("op-parent"), runtime = "external" });
        var child = await client.CreateWorkspaceAsync(new { name = "boxed", parent_id = (string)parent["id"]! });

        var listed = (await client.GetJsonAsync($"/workspaces?parent_id={parent["id"]}"))!.AsArray();

        var only = Assert.Single(listed)!;
        Assert.Equal((string?)child["operation"]!["id"], (string?)only["operation"]!["id"]);
        Assert.Equal("create", (string?)only["operation"]!["kind"]);
        Assert.Equal("boxed", (string?)only["name"]);
    }

    [Fact]
    public async Task Without_filters_the_list_includes_a_new_top_level_workspace()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("top"), runtime = "external" });

        var listed = (await client.GetJsonAsync("/workspaces?limit=500"))!.AsArray();

        Assert.Contains(listed, w => (string?)w!["id"] == (string?)created["id"]);
    }

    [Fact]
    public async Task A_cursor_at_the_start_of_time_lists_from_the_first_child()
    {
        var client = api.Factory.AdminClient();
        var (parent, children) = await CreateFamilyAsync(client, 2);

        var listed = (await client.GetJsonAsync($"/workspaces?parent_id={parent}&cursor={Cursor(0, Guid.Empty)}"))!.AsArray();

        Assert.Equal(children, listed.Select(w => (string)w!["id"]!));
    }

    [Fact]
    public async Task A_cursor_at_the_end_of_time_lists_nothing()
    {
        var client = api.Factory.AdminClient();
        var (parent, _) = await CreateFamilyAsync(client, 2);

        var listed = (await client.GetJsonAsync($"/workspaces?parent_id={parent}&cursor={Cursor(DateTimeOffset.MaxValue.UtcTicks, Guid.Empty)}"))!.AsArray();

        Assert.Empty(listed);
    }

    /// <summary>A cursor in the API's own format (base64url of <c>ticks:uuid</c>), to probe the edges of time.</summary>
    private static string Cursor(long ticks, Guid id) =>
        Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{ticks}:{id:D}")).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static async Task<(string Parent, List<string> Children)> CreateFamilyAsync(HttpClient client, int count)
    {
        var parent = (string)(await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("family"), runtime = "external" }))["id"]!;
        var children = new List<string>();
        for (var i = 0; i < count; i++)
        {
            children.Add((string)(await client.CreateWorkspaceAsync(new { name = $"child-{i}", parent_id = parent, runtime = "external" }))["id"]!);
        }

        return (parent, children);
    }

    private static string? NextLink(HttpResponseMessage response)
    {
        if (!response.Headers.TryGetValues("Link", out var values))
        {
            return null;
        }

        var link = Assert.Single(values);
        Assert.EndsWith(">; rel=\"next\"", link);
        return link[1..link.IndexOf('>')];
    }
}
