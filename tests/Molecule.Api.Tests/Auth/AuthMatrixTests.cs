using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Auth;

/// <summary>
/// Every route of the API against the four kinds of caller (DESIGN §10): an admin token may use any route; a workspace
/// token only its own workspace's routes (403 elsewhere, another workspace's operations included);
/// no token → 401; /healthz and /readyz are open.
/// </summary>
public sealed class AuthMatrixTests(AuthMatrixTests.TwoWorkspaces world) : IClassFixture<AuthMatrixTests.TwoWorkspaces>
{
    public enum Who
    {
        Admin,
        OwnToken,
        OtherToken,
        None,
    }

    /// <summary>(route, caller, expected status, expected error code or null for success).</summary>
    public static TheoryData<string, Who, int, string?> Matrix()
    {
        var data = new TheoryData<string, Who, int, string?>();

        void Row(string route, int admin, int own, int other, int? otherOverride = null)
        {
            data.Add(route, Who.Admin, admin, CodeFor(admin));
            data.Add(route, Who.OwnToken, own, CodeFor(own));
            data.Add(route, Who.OtherToken, otherOverride ?? other, CodeFor(otherOverride ?? other));
            data.Add(route, Who.None, 401, "UNAUTHORIZED");
        }

        // routes of workspace A: its own token may, workspace B's token may not
        Row("GET /workspaces/{A}", 200, 200, 403);
        Row("GET /workspaces/{A}/state", 200, 200, 403);
        Row("GET /workspaces/{A}/events", 200, 200, 403);
        Row("PATCH /workspaces/{A}", 200, 200, 403);
        Row("GET /operations/{A-op}", 200, 200, 403);

        // routes of no one workspace: admin only
        Row("POST /workspaces", 201, 403, 403);
        Row("GET /workspaces", 200, 403, 403);
        Row("GET /providers", 200, 403, 403);
        Row("GET /sim/instances", 200, 403, 403);
        Row("PUT /sim/faults", 200, 403, 403);
        Row("DELETE /sim/faults", 200, 403, 403);
        // an instance that does not exist: the admin passes auth and gets the route's own 404
        Row("POST /sim/instances/sim-east/i-doesnotexist/kill", 404, 403, 403);

        foreach (var who in Enum.GetValues<Who>())
        {
            data.Add("GET /healthz", who, 200, null);
            data.Add("GET /readyz", who, 200, null);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Matrix))]
    public async Task Route_answers_the_caller_as_the_matrix_says(string route, Who who, int expectedStatus, string? expectedError)
    {
        var client = ClientFor(who);
        var (method, path) = Resolve(route);

        using var response = await client.SendJsonAsync(method, path, BodyFor(route));

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(expectedStatus == (int)response.StatusCode, $"{route} as {who}: expected {expectedStatus}, got {(int)response.StatusCode}: {text}");
        if (expectedError is not null)
        {
            Assert.Equal(expectedError, (string?)(await response.ProblemAsync())["error"]);
        }
    }

    [Fact]
    public async Task No_token_gets_a_bearer_challenge()
    {
        var client = world.Factory.ClientWithToken(null);

        using var response = await client.GetAsync($"/workspaces/{world.A}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [Theory]
    [InlineData("Bearer not-a-real-token")]
    [InlineData("Bearer ")]
    [InlineData("Basic bW9sZWN1bGU6ZGV2")]
    [InlineData("molecule-dev-token")]
    [InlineData("Token molecule-dev-token")]
    public async Task An_unusable_authorization_header_gets_401(string header)
    {
        var client = world.Factory.ClientWithToken(null);

        using var response = await client.SendJsonAsync(HttpMethod.Get, $"/workspaces/{world.A}", null,
            new Dictionary<string, string> { ["Authorization"] = header });

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("UNAUTHORIZED", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task An_overlong_token_gets_401()
    {
        var client = world.Factory.ClientWithToken(new string('a', 4096));

        using var response = await client.GetAsync("/providers");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task The_bearer_scheme_is_case_insensitive()
    {
        var client = world.Factory.ClientWithToken(null);

        using var response = await client.SendJsonAsync(HttpMethod.Get, "/providers", null,
            new Dictionary<string, string> { ["Authorization"] = "bearer " + ApiFactory.AdminToken });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Workspace_token_on_a_workspace_that_does_not_exist_gets_403_not_404()
    {
        var client = world.Factory.ClientWithToken(world.TokenA);

        using var response = await client.GetAsync($"/workspaces/{Guid.NewGuid()}");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("FORBIDDEN", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task Other_workspace_token_patch_changes_nothing()
    {
        var client = world.Factory.ClientWithToken(world.TokenB);
        var before = await world.Factory.Database.ScalarAsync<string>("SELECT w::text FROM workspaces w WHERE id = $1", Guid.Parse(world.A));

        using var response = await client.SendJsonAsync(HttpMethod.Patch, $"/workspaces/{world.A}", """{"name":"hijacked"}""");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(before, await world.Factory.Database.ScalarAsync<string>("SELECT w::text FROM workspaces w WHERE id = $1", Guid.Parse(world.A)));
    }

    [Fact]
    public async Task Revoked_workspace_token_gets_401()
    {
        var created = await world.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("revoked"), runtime = "external" });
        await world.Factory.Database.ExecuteAsync("UPDATE workspace_tokens SET revoked_at = now() WHERE workspace_id = $1", Guid.Parse((string)created["id"]!));
        var client = world.Factory.ClientWithToken((string)created["auth_token"]!);

        using var response = await client.GetAsync($"/workspaces/{created["id"]}");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Unknown_route_without_a_token_gets_401_and_with_admin_a_404_problem()
    {
        using var anonymous = await world.Factory.ClientWithToken(null).GetAsync("/no-such-route");
        using var admin = await world.Factory.AdminClient().GetAsync("/no-such-route");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, admin.StatusCode);
        Assert.Equal("NOT_FOUND", (string?)(await admin.ProblemAsync())["error"]);
    }

    private HttpClient ClientFor(Who who) => who switch
    {
        Who.Admin => world.Factory.AdminClient(),
        Who.OwnToken => world.Factory.ClientWithToken(world.TokenA),
        Who.OtherToken => world.Factory.ClientWithToken(world.TokenB),
        _ => world.Factory.ClientWithToken(null),
    };

    private (HttpMethod Method, string Path) Resolve(string route)
    {
        var space = route.IndexOf(' ');
        var path = route[(space + 1)..].Replace("{A}", world.A).Replace("{A-op}", world.OperationA);
        return (new HttpMethod(route[..space]), path);
    }

    private static string? BodyFor(string route) => route switch
    {
        "POST /workspaces" => new JsonObject { ["name"] = ApiCalls.UniqueName("matrix"), ["runtime"] = "external" }.ToJsonString(),
        "PATCH /workspaces/{A}" => """{"x": 12.5}""",
        // a fault that changes nothing, so the matrix never disturbs another test
        "PUT /sim/faults" => """{"provider":"sim-west","call":"list","failure_rate":0}""",
        _ => null,
    };

    private static string? CodeFor(int status) => status switch
    {
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        _ => null,
    };

    /// <summary>Two settled workspaces, A and B, with their tokens and A's create operation.</summary>
    public sealed class TwoWorkspaces : IAsyncLifetime
    {
        private readonly ApiFixture api = new();

        public ApiFactory Factory => api.Factory;

        public string A { get; private set; } = "";

        public string TokenA { get; private set; } = "";

        public string OperationA { get; private set; } = "";

        public string TokenB { get; private set; } = "";

        public async Task InitializeAsync()
        {
            await api.InitializeAsync();
            var admin = Factory.AdminClient();
            var a = await admin.CreateSettledWorkspaceAsync(new { name = "auth-a" });
            var b = await admin.CreateSettledWorkspaceAsync(new { name = "auth-b" });
            A = (string)a["id"]!;
            TokenA = (string)a["auth_token"]!;
            OperationA = (string)a["operation"]!["id"]!;
            TokenB = (string)b["auth_token"]!;
        }

        public Task DisposeAsync() => api.DisposeAsync();
    }
}
