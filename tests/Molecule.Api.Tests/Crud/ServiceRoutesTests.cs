using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Providers.Sim;

namespace Molecule.Api.Tests.Crud;

/// <summary><c>/healthz</c>, <c>/readyz</c>, <c>/providers</c> and the simulated cloud's admin routes.</summary>
public sealed class ServiceRoutesTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    [Fact]
    public async Task Healthz_answers_ok_without_a_token()
    {
        var client = api.Factory.ClientWithToken(null);

        var body = (await client.GetJsonAsync("/healthz"))!;

        Assert.Equal("ok", (string?)body["status"]);
    }

    [Fact]
    public async Task Readyz_answers_ready_without_a_token_when_postgres_answers()
    {
        var client = api.Factory.ClientWithToken(null);

        var body = (await client.GetJsonAsync("/readyz"))!;

        Assert.Equal("ready", (string?)body["status"]);
    }

    [Fact]
    public async Task Providers_lists_both_sims_by_name_with_type_and_the_default()
    {
        var client = api.Factory.AdminClient();

        var providers = (await client.GetJsonAsync("/providers"))!.AsArray();

        Assert.Equal(["sim-east", "sim-west"], providers.Select(p => (string)p!["name"]!));
        Assert.All(providers, p => Assert.Equal("sim", (string?)p!["type"]));
        Assert.Equal("sim-east", (string?)Assert.Single(providers, p => (bool)p!["default"]!)!["name"]);
    }

    [Fact]
    public async Task Sim_instances_lists_the_box_of_an_online_workspace()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("sim-list") });
        var online = await client.WaitForStatusAsync((string)created["id"]!, "online");

        var boxes = (await client.GetJsonAsync("/sim/instances?provider=sim-east"))!.AsArray();

        var box = Assert.Single(boxes, b => (string?)b!["instance_id"] == (string?)online["instance_id"])!;
        Assert.Equal("sim-east", (string?)box["provider"]);
        Assert.Equal((string?)created["id"], (string?)box["tags"]!["molecule:workspace-id"]);
    }

    [Fact]
    public async Task Sim_kill_terminates_a_live_box_and_a_second_kill_gets_404()
    {
        var client = api.Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = ApiCalls.UniqueName("sim-kill") });
        var online = await client.WaitForStatusAsync((string)created["id"]!, "online");
        var path = $"/sim/instances/sim-east/{online["instance_id"]}/kill";

        using var kill = await client.PostAsync(path, null);
        using var again = await client.PostAsync(path, null);

        var body = JsonNode.Parse(await kill.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, kill.StatusCode);
        Assert.Equal("terminated", (string?)body["state"]);
        Assert.Equal("terminated", await api.Database.ScalarAsync<string>(
            "SELECT state FROM sim_instances WHERE provider = 'sim-east' AND instance_id = $1", (string)online["instance_id"]!));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
    }

    [Fact]
    public async Task Sim_faults_put_sets_the_fault_on_the_named_provider_and_call_only()
    {
        var client = api.Factory.AdminClient();
        api.Factory.Sim("sim-east").Faults.Clear();
        api.Factory.Sim("sim-west").Faults.Clear();

        using var response = await client.SendJsonAsync(HttpMethod.Put, "/sim/faults",
            """{"provider":"sim-west","call":"describe","latency_ms":5,"fail_next":2,"failure_rate":0}""");

        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["sim-west"], body["providers"]!.AsArray().Select(p => (string)p!));
        Assert.Equal(new SimFault(0, 5, 2), api.Factory.Sim("sim-west").Faults.Snapshot()[SimCall.Describe]);
        Assert.Single(api.Factory.Sim("sim-west").Faults.Snapshot());
        Assert.Empty(api.Factory.Sim("sim-east").Faults.Snapshot());
        api.Factory.Sim("sim-west").Faults.Clear();
    }

    [Fact]
    public async Task Sim_faults_delete_clears_every_provider()
    {
        var client = api.Factory.AdminClient();
        api.Factory.Sim("sim-east").Faults.SetAll(new SimFault(0, 1, 0));
        api.Factory.Sim("sim-west").Faults.SetAll(new SimFault(0, 1, 0));

        using var response = await client.DeleteAsync("/sim/faults");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("cleared", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
        Assert.Empty(api.Factory.Sim("sim-east").Faults.Snapshot());
        Assert.Empty(api.Factory.Sim("sim-west").Faults.Snapshot());
    }
}
