using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Operations;

public sealed class SwitchProviderApiTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private TestDatabase Database => api.Database;

    private ApiFactory Factory => api.Factory;

    [Fact]
    public async Task Fifty_concurrent_switches_make_one_winner_and_the_losers_change_nothing()
    {
        // a slow boot keeps the winner's switch in flight until every request has been answered
        await using var host = await IsolatedHost.StartAsync(new Dictionary<string, string?> { ["Molecule:Providers:sim-west:BootSeconds"] = "3" });
        var slow = host.Factory;
        var client = slow.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "fifty-switches");
        var before = (await client.GetJsonAsync($"/workspaces/{id}"))!;
        var oldBox = (string)before["instance_id"]!;

        var responses = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ =>
            client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" })));

        var winners = responses.Where(r => r.StatusCode == HttpStatusCode.Accepted).ToList();
        var losers = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        var distribution = string.Join(", ", await Task.WhenAll(responses.Where(r => r.StatusCode != HttpStatusCode.Conflict)
            .Select(async r => $"{(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}")));
        Assert.True(winners.Count == 1 && losers.Count == 49, distribution);
        foreach (var loser in losers)
        {
            Assert.Equal("ALREADY_SWITCHING", (string?)(await loser.ProblemAsync())["error"]);
        }

        var operationId = (string)JsonNode.Parse(await winners[0].Content.ReadAsStringAsync())!["operation"]!["id"]!;
        var operation = await client.WaitForOperationEndAsync(operationId);
        var after = await client.WaitForStatusAsync(id, "online");
        Assert.Equal("succeeded", (string?)operation["state"]);
        Assert.Equal("sim-west", (string?)after["instance_provider"]);
        Assert.Equal(1, slow.Sim("sim-east").Calls.TerminateRequestsFor(oldBox));
        Assert.Equal(2, await host.Database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1::uuid", id));
        Assert.Equal(1, await host.Database.ScalarAsync<long>(
            "SELECT count(*) FROM structure_events WHERE workspace_id = $1::uuid AND event_type = 'workspace.operation.claimed'", id));
    }

    [Fact]
    public async Task A_client_that_disconnects_right_after_the_202_still_gets_its_switch()
    {
        var admin = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(admin, "disconnects");

        string operationId;
        using (var impatient = Factory.AdminClient())
        {
            using var response = await impatient.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" });
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            operationId = (string)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["operation"]!["id"]!;
        }

        var operation = await admin.WaitForOperationEndAsync(operationId);
        Assert.Equal("succeeded", (string?)operation["state"]);
        Assert.Equal("sim-west", (string?)(await admin.WaitForStatusAsync(id, "online"))["instance_provider"]);
    }

    [Fact]
    public async Task Requests_cancelled_at_any_moment_strand_no_workspace()
    {
        var admin = Factory.AdminClient();
        var ids = new List<string>();
        for (var i = 0; i < 10; i++)
        {
            ids.Add(await OnlineWorkspaceAsync(admin, $"cancelled-{i}"));
        }

        await Task.WhenAll(ids.Select(async (id, i) =>
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(i * 3));
            try
            {
                using var _ = await admin.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" }, cts.Token);
            }
            catch (OperationCanceledException)
            {
            }
        }));

        foreach (var id in ids)
        {
            // switched or not, every workspace settles online: no request left a claim behind
            await admin.WaitForStatusAsync(id, "online");
        }

        Assert.Equal(0, await Database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE claim_id IS NOT NULL"));
    }

    [Fact]
    public async Task The_operation_walks_the_switch_steps_in_order()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "walks-steps");

        using var response = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        await client.WaitForOperationEndAsync((string)body["operation"]!["id"]!);
        var events = (await client.GetJsonAsync($"/workspaces/{id}/events?limit=50"))!.AsArray()
            .Select(e => (string)e!["event_type"]!).Reverse().SkipWhile(e => e != "workspace.operation.claimed").ToList();

        Assert.Equal("sim-east", (string?)body["from"]);
        Assert.Equal("sim-west", (string?)body["to"]);
        Assert.Equal(
            ["workspace.operation.claimed", "workspace.operation.started", "workspace.instance.stopped", "workspace.provider.written",
             "workspace.instance.provisioned", "workspace.instance.running", "workspace.operation.succeeded"],
            events.TakeLast(7));
    }

    [Theory]
    [InlineData("{}", 400, "BAD_PROVIDER")]
    [InlineData("""{"provider":"sim-north"}""", 400, "BAD_PROVIDER")]
    [InlineData("""{"provider":42}""", 400, "BAD_PROVIDER")]
    [InlineData("""{"provider":"sim-west","confirm_data_loss":"yes"}""", 400, "VALIDATION")]
    [InlineData("not json", 400, "VALIDATION")]
    public async Task A_bad_switch_request_is_refused_and_changes_nothing(string body, int status, string error)
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, $"bad-switch-{Guid.NewGuid():N}");
        var before = await Database.FingerprintAsync();

        using var response = await client.PostAsync($"/workspaces/{id}/switch-provider", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(status, (int)response.StatusCode);
        Assert.Equal(error, (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task Switching_to_the_current_provider_is_a_noop()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "noop-switch");

        using var response = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-east" });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("noop", (string?)JsonNode.Parse(await response.Content.ReadAsStringAsync())!["status"]);
    }

    [Fact]
    public async Task A_persistent_workspace_needs_confirmation_of_data_loss()
    {
        var client = Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = "persistent", compute = new { data_persistence = "persist" } });
        var id = (string)created["id"]!;
        await client.WaitForStatusAsync(id, "online");

        using var refused = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" });
        using var confirmed = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west", confirm_data_loss = true });

        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("DATA_LOSS_UNCONFIRMED", (string?)(await refused.ProblemAsync())["error"]);
        Assert.Equal(HttpStatusCode.Accepted, confirmed.StatusCode);
        await client.WaitForOperationEndAsync((string)JsonNode.Parse(await confirmed.Content.ReadAsStringAsync())!["operation"]!["id"]!);
    }

    [Fact]
    public async Task An_external_workspace_cannot_switch()
    {
        var client = Factory.AdminClient();
        var created = await client.CreateWorkspaceAsync(new { name = "external-switch", runtime = "external" });

        using var response = await client.PostAsJsonAsync($"/workspaces/{created["id"]}/switch-provider", new { provider = "sim-west" });

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("EXTERNAL_RUNTIME", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task Unknown_and_removed_workspaces_answer_404_and_410()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "removed-switch");
        await Database.ExecuteAsync("UPDATE workspaces SET status = 'removed', removed_at = now() WHERE id = $1::uuid", id);

        using var removed = await client.PostAsJsonAsync($"/workspaces/{id}/switch-provider", new { provider = "sim-west" });
        using var unknown = await client.PostAsJsonAsync($"/workspaces/{Guid.NewGuid()}/switch-provider", new { provider = "sim-west" });

        Assert.Equal(HttpStatusCode.Gone, removed.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task Patch_of_compute_provider_starts_the_same_switch()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "patch-switch");

        using var response = await client.PatchAsJsonAsync($"/workspaces/{id}", new { compute = new { provider = "sim-west" } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        await client.WaitForOperationEndAsync((string)body["operation"]!["id"]!);

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal("switching", (string?)body["status"]);
        Assert.Equal("sim-west", (string?)(await client.WaitForStatusAsync(id, "online"))["instance_provider"]);
    }

    [Fact]
    public async Task A_stale_if_match_on_a_switching_patch_is_412_and_changes_nothing()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "patch-switch-stale");
        var version = (int)(await client.GetJsonAsync($"/workspaces/{id}"))!["version"]!;
        var before = await Database.FingerprintAsync();

        using var request = new HttpRequestMessage(HttpMethod.Patch, $"/workspaces/{id}")
        {
            Content = JsonContent.Create(new { name = "renamed", compute = new { provider = "sim-west" } }),
        };
        request.Headers.TryAddWithoutValidation("If-Match", $"\"{version - 1}\"");
        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PreconditionFailed, response.StatusCode);
        Assert.Equal("VERSION_MISMATCH", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(before, await Database.FingerprintAsync());
    }

    [Fact]
    public async Task Patch_of_other_compute_fields_is_refused_naming_the_field()
    {
        var client = Factory.AdminClient();
        var id = await OnlineWorkspaceAsync(client, "patch-compute-other");

        using var response = await client.PatchAsJsonAsync($"/workspaces/{id}", new { compute = new { instance_type = "big" } });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.ProblemAsync();
        Assert.Equal("VALIDATION", (string?)problem["error"]);
        Assert.Contains("compute.instance_type", (string?)problem["detail"]);
    }

    private static async Task<string> OnlineWorkspaceAsync(HttpClient client, string name)
    {
        var created = await client.CreateWorkspaceAsync(new { name });
        var id = (string)created["id"]!;
        await client.WaitForStatusAsync(id, "online");
        return id;
    }
}
