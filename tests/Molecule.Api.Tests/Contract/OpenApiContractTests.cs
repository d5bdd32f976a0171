using System.Net;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Contract;

/// <summary>
/// <c>GET /openapi/v1.json</c> of the app in role <c>api</c> (as deployed: DynamoDB dispatch, never called here): served to
/// any token, naming every route the role maps and no worker route, lint-clean, and good enough for the canvas: the
/// TypeScript types openapi-typescript generates from it compile against a canvas-shaped client
/// (<c>infra/checks/canvas-client</c>). The node tools are the ones <c>infra/dev.sh test</c> installs in infra/checks
/// (exact versions from its lockfile); a missing one fails the test, naming the fix.
/// </summary>
public sealed class OpenApiContractTests(OpenApiContractTests.ApiRoleDocument api) : IClassFixture<OpenApiContractTests.ApiRoleDocument>
{
    private static readonly TimeSpan ToolTimeout = TimeSpan.FromMinutes(2);

    /// <summary>The node tools must not try to reach the network (there is none but the package registries).</summary>
    private static readonly Dictionary<string, string> Offline = new()
    {
        ["REDOCLY_TELEMETRY"] = "off",
        ["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true",
    };

    [Fact]
    public async Task The_document_needs_a_token_and_any_token_will_do()
    {
        var created = await api.Factory.AdminClient().CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("openapi-token") });

        using var anonymous = await api.Factory.ClientWithToken(null).GetAsync("/openapi/v1.json");
        using var workspace = await api.Factory.ClientWithToken((string)created["auth_token"]!).GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("UNAUTHORIZED", (string?)(await anonymous.ProblemAsync())["error"]);
        Assert.Equal(HttpStatusCode.OK, workspace.StatusCode);
        Assert.Equal("3.1.1", (string?)JsonNode.Parse(await workspace.Content.ReadAsStringAsync())!["openapi"]);
    }

    [Fact]
    public void Every_route_the_api_role_maps_is_in_the_document_with_its_method()
    {
        var mapped = api.Factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText != "/openapi/{documentName}.json")
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Path: PathOf(e), Method: m.ToLowerInvariant())))
            .ToList();

        var paths = api.Document["paths"]!.AsObject();
        Assert.True(mapped.Count >= 20, $"only {mapped.Count} routes mapped");
        Assert.All(mapped, route => Assert.True(paths[route.Path]?[route.Method] is JsonObject,
            $"{route.Method.ToUpperInvariant()} {route.Path} is mapped but not in the document"));
        Assert.Equal(mapped.Count, paths.Sum(p => p.Value!.AsObject().Count(o => o.Key is "get" or "post" or "put" or "patch" or "delete")));
    }

    [Fact]
    public void No_worker_route_is_in_the_document()
    {
        var paths = api.Document["paths"]!.AsObject().Select(p => p.Key).ToList();

        Assert.DoesNotContain(paths, p => p.StartsWith("/internal", StringComparison.Ordinal));
        Assert.Contains("/workspaces/{id}", paths);
    }

    [Fact]
    public void Every_route_but_health_needs_the_bearer_scheme_and_declares_401()
    {
        var document = api.Document;
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(o => (Path: p.Key, Operation: o.Value!.AsObject())))
            .ToList();

        Assert.Equal("bearer", (string?)document["components"]!["securitySchemes"]!["bearer"]!["scheme"]);
        Assert.NotNull(document["security"]![0]!["bearer"]);
        Assert.All(operations.Where(o => o.Path is "/healthz" or "/readyz"), o => Assert.Empty(o.Operation["security"]!.AsArray()));
        Assert.All(operations.Where(o => o.Path is not ("/healthz" or "/readyz")), o =>
        {
            Assert.Null(o.Operation["security"]);
            Assert.Contains("UNAUTHORIZED", (string?)o.Operation["responses"]!["401"]!["description"]);
        });
    }

    [Fact]
    public void Problem_answers_name_their_codes_and_documents()
    {
        var delete = api.Document["paths"]!["/workspaces/{id}"]!["delete"]!["responses"]!;
        var pause = api.Document["paths"]!["/workspaces/{id}/pause"]!["post"]!["responses"]!;

        Assert.Contains("CONFIRMATION_REQUIRED", (string?)delete["409"]!["description"]);
        Assert.Equal("#/components/schemas/ConfirmationRequiredProblem",
            (string?)delete["409"]!["content"]!["application/problem+json"]!["schema"]!["$ref"]);
        Assert.Contains("Retry-After", delete["503"]!["headers"]!.AsObject().Select(h => h.Key));
        var conflicts = pause["409"]!["content"]!["application/problem+json"]!["schema"]!["anyOf"]!.AsArray().Select(s => (string?)s!["$ref"]).ToList();
        Assert.Contains("#/components/schemas/DescendantsProblem", conflicts);
        Assert.Contains("#/components/schemas/BusyProblem", conflicts);
        Assert.Contains("children_count", api.Document["components"]!["schemas"]!["DescendantsProblem"]!["required"]!.AsArray().Select(r => (string?)r));
    }

    [Fact]
    public async Task The_document_lints_clean_with_redocly()
    {
        var (exitCode, stdout, stderr) = await NodeCommand.RunAsync(ToolTimeout, Offline,
            RepositoryPaths.CheckModule("@redocly", "cli", "bin", "cli.js"), "lint", api.DocumentPath,
            "--config", Path.Combine(RepositoryPaths.Checks, "redocly.yaml"), "--format", "summary");

        // the summary lists each rule that reported (error or warning) on a line of its own: none may
        Assert.True(exitCode == 0, $"redocly lint exited {exitCode}:\n{stdout}\n{stderr}");
        Assert.Contains("Your API description is valid", stdout + stderr);
        Assert.DoesNotMatch(new System.Text.RegularExpressions.Regex(@"^(error|warning)\s", System.Text.RegularExpressions.RegexOptions.Multiline), stdout + stderr);
    }

    [Fact]
    public async Task Typescript_types_generated_from_the_document_compile_against_a_canvas_shaped_client()
    {
        var client = Path.Combine(RepositoryPaths.Checks, "canvas-client");
        var work = Directory.CreateTempSubdirectory("molecule-canvas-client-").FullName;
        try
        {
            File.Copy(Path.Combine(client, "client.ts"), Path.Combine(work, "client.ts"));
            File.Copy(Path.Combine(client, "tsconfig.json"), Path.Combine(work, "tsconfig.json"));

            var generate = await NodeCommand.RunAsync(ToolTimeout, Offline,
                RepositoryPaths.CheckModule("openapi-typescript", "bin", "cli.js"), api.DocumentPath, "--output", Path.Combine(work, "api.d.ts"));
            var compile = await NodeCommand.RunAsync(ToolTimeout, Offline,
                RepositoryPaths.CheckModule("typescript", "bin", "tsc"), "--project", Path.Combine(work, "tsconfig.json"));

            Assert.True(generate.ExitCode == 0, $"openapi-typescript exited {generate.ExitCode}:\n{generate.Stdout}\n{generate.Stderr}");
            Assert.True(compile.ExitCode == 0, $"tsc --noEmit exited {compile.ExitCode}:\n{compile.Stdout}\n{compile.Stderr}");
            Assert.Contains("CreateWorkspaceRequest", await File.ReadAllTextAsync(Path.Combine(work, "api.d.ts")));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Theory]
    [InlineData("steps")]
    [InlineData("sweeps")]
    [InlineData("migrate")]
    public async Task Worker_roles_serve_no_document(string role)
    {
        var settings = new Dictionary<string, string?> { ["Molecule:Role"] = role };
        if (role == "sweeps")
        {
            settings.WithUnreachableDispatchTable();
        }

        await using var worker = new ApiFactory(api.Database, settings);

        using var response = await worker.CreateClient().GetAsync("/openapi/v1.json");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private static string PathOf(RouteEndpoint endpoint)
    {
        var path = "/" + endpoint.RoutePattern.RawText!.Trim('/');
        return path;
    }

    /// <summary>The app in role <c>api</c> on a fresh database, and its document, fetched once and kept in a file for the node tools.</summary>
    public sealed class ApiRoleDocument : IAsyncLifetime
    {
        public TestDatabase Database { get; } = new();

        public ApiFactory Factory { get; private set; } = null!;

        public JsonObject Document { get; private set; } = null!;

        public string DocumentPath { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            Factory = new ApiFactory(Database, new Dictionary<string, string?>
            {
                ["Molecule:Role"] = "api",
                ["Molecule:Dispatch:TimeoutSeconds"] = "0.2",
            }.WithUnreachableDispatchTable());
            var text = await Factory.AdminClient().GetStringAsync("/openapi/v1.json");
            Document = JsonNode.Parse(text)!.AsObject();
            DocumentPath = Path.Combine(Directory.CreateTempSubdirectory("molecule-openapi-").FullName, "openapi.json");
            await File.WriteAllTextAsync(DocumentPath, text);
        }

        public async Task DisposeAsync()
        {
            if (DocumentPath is not null)
            {
                Directory.Delete(Path.GetDirectoryName(DocumentPath)!, recursive: true);
            }

            if (Factory is not null)
            {
                await Factory.DisposeAsync();
            }

            await Database.DisposeAsync();
        }
    }
}
