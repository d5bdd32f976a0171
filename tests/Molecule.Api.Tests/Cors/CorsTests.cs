using System.Net;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Cors;

/// <summary>The canvas calls from another origin: the local host answers CORS for the configured origins only.</summary>
public sealed class CorsTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private const string Canvas = "https://canvas.example.com";

    [Fact]
    public async Task A_preflight_from_an_allowed_origin_is_answered_without_a_token_with_the_canvas_headers()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Cors:AllowedOrigins:0"] = Canvas });
        var client = factory.ClientWithToken(null);
        using var preflight = Preflight("/workspaces", Canvas, "POST",
            "authorization,content-type,idempotency-key,if-match,x-confirm-name,x-molecule-org-slug");

        using var response = await client.SendAsync(preflight);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(Canvas, Header(response, "Access-Control-Allow-Origin"));
        var allowed = Header(response, "Access-Control-Allow-Headers")!.Split(',').Select(h => h.Trim().ToLowerInvariant()).ToHashSet();
        Assert.Superset(new HashSet<string> { "authorization", "content-type", "idempotency-key", "if-match", "x-confirm-name", "x-molecule-org-slug" }, allowed);
        Assert.Contains("POST", Header(response, "Access-Control-Allow-Methods")!);
        Assert.Equal("600", Header(response, "Access-Control-Max-Age"));
    }

    [Fact]
    public async Task A_cross_origin_read_exposes_the_headers_the_canvas_reads()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Cors:AllowedOrigins:0"] = Canvas });
        var client = factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("cors-read") });
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/workspaces/{created["id"]}");
        request.Headers.Add("Origin", Canvas);

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Canvas, Header(response, "Access-Control-Allow-Origin"));
        var exposed = Header(response, "Access-Control-Expose-Headers")!.Split(',').Select(h => h.Trim()).ToHashSet(StringComparer.OrdinalIgnoreCase);
        Assert.Superset(new HashSet<string>(StringComparer.OrdinalIgnoreCase) { "Location", "ETag", "Link", "Retry-After" }, exposed);
    }

    [Fact]
    public async Task A_401_to_an_allowed_origin_is_still_readable_by_the_canvas()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Cors:AllowedOrigins:0"] = Canvas });
        using var request = new HttpRequestMessage(HttpMethod.Get, "/workspaces");
        request.Headers.Add("Origin", Canvas);

        using var response = await factory.ClientWithToken(null).SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(Canvas, Header(response, "Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task Another_origin_gets_no_cors_headers_and_changes_nothing()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Cors:AllowedOrigins:0"] = Canvas });
        var before = await database.FingerprintAsync();
        using var preflight = Preflight("/workspaces", "https://evil.example.net", "POST", "authorization,content-type");

        using var response = await factory.ClientWithToken(null).SendAsync(preflight);

        Assert.Null(Header(response, "Access-Control-Allow-Origin"));
        Assert.Equal(before, await database.FingerprintAsync());
    }

    [Fact]
    public async Task With_no_origins_configured_no_origin_is_allowed()
    {
        await using var factory = new ApiFactory(database);
        var client = factory.AdminClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/providers");
        request.Headers.Add("Origin", Canvas);
        using var preflight = Preflight("/workspaces", Canvas, "POST", "authorization");

        using var read = await client.SendAsync(request);
        using var answer = await factory.ClientWithToken(null).SendAsync(preflight);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Null(Header(read, "Access-Control-Allow-Origin"));
        Assert.Null(Header(answer, "Access-Control-Allow-Origin"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("canvas.example.com")]
    [InlineData("https://canvas.example.com/app")]
    public void A_configured_origin_that_is_not_an_origin_refuses_to_start(string origin)
    {
        var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Cors:AllowedOrigins:0"] = origin });

        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("Molecule:Cors:AllowedOrigins", error.ToString());
        factory.Dispose();
    }

    private static HttpRequestMessage Preflight(string path, string origin, string method, string headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Options, path);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", method);
        request.Headers.Add("Access-Control-Request-Headers", headers);
        return request;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values)
            ? string.Join(",", values)
            : null;
}
