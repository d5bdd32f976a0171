using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workspaces;

public sealed class CreateWorkspaceTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private ApiFactory Factory => api.Factory;

    [Fact]
    public async Task Create_reaches_online_on_the_default_provider_with_one_tagged_box()
    {
        var client = Factory.AdminClient();

        var created = await client.CreateWorkspaceAsync(new { name = "reaches-online" });
        var id = (string)created["id"]!;
        var online = await client.WaitForStatusAsync(id, "online");

        Assert.Equal("provisioning", (string?)created["status"]);
        Assert.StartsWith("mws_", (string?)created["auth_token"]);
        Assert.Equal("sim-east", (string?)online["instance_provider"]);
        var boxes = (await Factory.Sim("sim-east").ListAllAsync(CancellationToken.None))
            .Where(b => b.Tags.GetValueOrDefault("molecule:workspace-id") == id).ToList();
        var box = Assert.Single(boxes);
        Assert.Equal((string?)online["instance_id"], box.InstanceId);
        Assert.Equal("test", box.Tags["molecule:deployment"]);
    }

    [Fact]
    public async Task Create_answers_location_and_operation_and_the_operation_succeeds()
    {
        var client = Factory.AdminClient();

        using var response = await client.PostAsync("/workspaces", JsonContent("""{"name":"with-location"}"""));
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        var operationId = (string)body["operation"]!["id"]!;
        var operation = await client.WaitForOperationEndAsync(operationId);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/workspaces/{body["id"]}", response.Headers.Location?.ToString());
        Assert.Equal("succeeded", (string?)operation["state"]);
        Assert.Equal("commit", (string?)operation["step"]);
        var runner = Factory.Services.GetRequiredService<LocalOperationRunner>();
        Assert.Equal(runner.ExecutionIdOf(Guid.Parse(operationId)), (string?)operation["execution_arn"]);
    }

    private static StringContent JsonContent(string json) => new(json, System.Text.Encoding.UTF8, "application/json");
}
