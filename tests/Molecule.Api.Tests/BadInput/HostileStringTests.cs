using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.BadInput;

/// <summary>
/// Strings that look hostile but are valid names are stored and returned verbatim: not rejected, not escaped into
/// something else, not truncated. Each case uses its own name, so the cases share one database without colliding.
/// </summary>
public sealed class HostileStringTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    public static TheoryData<string, string> Names() => new()
    {
        { "SQL injection", "Robert'); DROP TABLE workspaces;--" },
        { "SQL tautology", "' OR '1'='1" },
        { "SQL comment and semicolon", "a; -- SELECT pg_sleep(10)" },
        { "HTML script", "<script>alert('x')</script>" },
        { "HTML attributes", "<img src=x onerror=\"alert(1)\">" },
        { "quotes and backslashes", "\"quoted\" \\back\\slash\\ 'single'" },
        { "JSON-looking", "{\"name\":\"inner\",\"x\":[1,2]}" },
        { "emoji", "rocket 🚀 crab 🦀 team" },
        { "emoji with joiners", "👩‍👩‍👧‍👦 family 🏳️‍🌈" },
        { "right-to-left override", "abc\u202Egnp.exe\u202C" },
        { "right-to-left text and marks", "שלום \u200Fעולם\u200E مرحبا" },
        { "zero-width characters", "zero\u200Bwidth\u200Dname\uFEFF" },
        { "combining marks", "Zalgo: Z\u0351\u0300\u0489a\u0301\u0316l\u0300g\u0303o" },
        { "percent and format strings", "%00 %s %n {0} ${env:HOME} $(whoami)" },
        { "path traversal", "../../etc/passwd" },
        { "CJK", "工作区 ワークスペース 작업공간" },
        { "200 ASCII characters", new string('w', 200) },
        { "200 emoji (400 UTF-16 units)", string.Concat(Enumerable.Repeat("😀", 200)) },
        { "one character", "x" },
    };

    [Theory]
    [MemberData(nameof(Names))]
    public async Task A_valid_hostile_name_is_stored_and_returned_verbatim(string what, string name)
    {
        var client = api.Factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new JsonObject { ["name"] = name, ["runtime"] = "external" });

        var id = (string)created["id"]!;
        var read = await client.GetJsonAsync($"/workspaces/{id}");
        Assert.True(name == (string?)read!["name"], $"{what}: returned {read["name"]?.ToJsonString()}");
        Assert.Equal(name, await api.Database.ScalarAsync<string>("SELECT name FROM workspaces WHERE id = $1", Guid.Parse(id)));
    }

    [Fact]
    public async Task A_hostile_name_set_by_patch_is_returned_verbatim_in_the_list()
    {
        var client = api.Factory.AdminClient();
        var parent = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("hostile-parent"), runtime = "external" });
        var child = await client.CreateWorkspaceAsync(new { name = "child", parent_id = (string)parent["id"]!, runtime = "external" });
        const string hostile = "'; UPDATE workspaces SET status='removed';-- <b>🦀</b> \u202E";

        using var patch = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{child["id"]}", new JsonObject { ["name"] = hostile }.ToJsonString());
        var list = (await client.GetJsonAsync($"/workspaces?parent_id={parent["id"]}"))!.AsArray();

        Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        Assert.Equal(hostile, (string?)Assert.Single(list)!["name"]);
        Assert.Equal(0L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE status = 'removed'"));
    }

    [Fact]
    public async Task A_script_name_is_escaped_in_the_raw_json()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("<script>alert(1)</script>");
        var created = await client.CreateWorkspaceAsync(new JsonObject { ["name"] = name, ["runtime"] = "external" });

        using var response = await client.GetAsync($"/workspaces/{created["id"]}");

        var raw = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script>", raw);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }
}
