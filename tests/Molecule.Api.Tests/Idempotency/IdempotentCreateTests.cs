using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Idempotency;

/// <summary>
/// <c>POST /workspaces</c> with an <c>Idempotency-Key</c> (DESIGN §3, §12.4): one key and one body make one workspace
/// and one box however often and however concurrently they are sent, and every sender gets the same answer; the
/// same key with another body is refused and changes nothing.
/// </summary>
public sealed class IdempotentCreateTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private const int Senders = 20;

    [Fact]
    public async Task Twenty_concurrent_creates_with_one_key_make_one_workspace_and_answer_identically()
    {
        var client = api.Factory.AdminClient();
        var name = ApiCalls.UniqueName("concurrent");
        var body = new JsonObject { ["name"] = name }.ToJsonString();
        var key = Guid.NewGuid().ToString();
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var senders = Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
        {
            await start.Task;
            using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, new Dictionary<string, string> { ["Idempotency-Key"] = key });
            return (Status: response.StatusCode, Location: response.Headers.Location?.ToString(), Body: await response.Content.ReadAsStringAsync());
        })).ToArray();

        start.SetResult();
        var answers = await Task.WhenAll(senders);

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.Created, $"answered {(int)a.Status}: {a.Body}"));
        Assert.Single(answers.Select(a => a.Body).Distinct());
        Assert.Single(answers.Select(a => a.Location).Distinct());
        var first = JsonNode.Parse(answers[0].Body)!;
        Assert.StartsWith("mws_", (string?)first["auth_token"]);
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE name = $1", name));
    }

    [Fact]
    public async Task Twenty_concurrent_creates_with_one_key_start_one_operation_and_one_box()
    {
        var client = api.Factory.AdminClient();
        var body = new JsonObject { ["name"] = ApiCalls.UniqueName("one-box") }.ToJsonString();
        var key = Guid.NewGuid().ToString();

        var answers = await Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => Task.Run(async () =>
        {
            using var response = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, new Dictionary<string, string> { ["Idempotency-Key"] = key });
            return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        })));
        var id = (string)answers[0]["id"]!;
        var online = await client.WaitForStatusAsync(id, "online");

        Assert.All(answers, a => Assert.Equal(id, (string?)a["id"]));
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM operations WHERE workspace_id = $1", Guid.Parse(id)));
        Assert.Equal(1L, await api.Database.ScalarAsync<long>("SELECT count(*) FROM workspace_tokens WHERE workspace_id = $1", Guid.Parse(id)));
        var boxes = (await api.Factory.Sim("sim-east").ListAllAsync(CancellationToken.None))
            .Where(b => b.Tags.GetValueOrDefault("molecule:workspace-id") == id).ToList();
        Assert.Equal((string?)online["instance_id"], Assert.Single(boxes).InstanceId);
    }

    [Fact]
    public async Task Every_replayed_token_works_as_the_workspace_token()
    {
        var client = api.Factory.AdminClient();
        var body = new JsonObject { ["name"] = ApiCalls.UniqueName("replayed-token"), ["runtime"] = "external" }.ToJsonString();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        using var first = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, headers);
        var created = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;

        using var replay = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body, headers);
        var replayed = JsonNode.Parse(await replay.Content.ReadAsStringAsync())!;
        using var read = await api.Factory.ClientWithToken((string)replayed["auth_token"]!).GetAsync($"/workspaces/{created["id"]}");

        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal(created.ToJsonString(), replayed.ToJsonString());
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
    }

    [Fact]
    public async Task Same_key_with_another_body_gets_422_and_changes_nothing()
    {
        var client = api.Factory.AdminClient();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        using var first = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            new JsonObject { ["name"] = ApiCalls.UniqueName("reused-key"), ["runtime"] = "external" }.ToJsonString(), headers);
        var before = await api.Database.FingerprintAsync();

        using var second = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            new JsonObject { ["name"] = ApiCalls.UniqueName("other-body"), ["runtime"] = "external" }.ToJsonString(), headers);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, second.StatusCode);
        Assert.Equal("IDEMPOTENCY_KEY_REUSED", (string?)(await second.ProblemAsync())["error"]);
        Assert.Equal(before, await api.Database.FingerprintAsync());
    }

    [Fact]
    public async Task A_key_whose_first_create_was_refused_is_free_for_a_good_body()
    {
        var client = api.Factory.AdminClient();
        var headers = new Dictionary<string, string> { ["Idempotency-Key"] = Guid.NewGuid().ToString() };
        using var refused = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            $$"""{"name":"orphan","parent_id":"{{Guid.NewGuid()}}"}""", headers);

        using var created = await client.SendJsonAsync(HttpMethod.Post, "/workspaces",
            new JsonObject { ["name"] = ApiCalls.UniqueName("after-refusal"), ["runtime"] = "external" }.ToJsonString(), headers);

        Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    [Fact]
    public async Task Without_a_key_the_same_body_twice_gets_409_name_taken()
    {
        var client = api.Factory.AdminClient();
        var body = new JsonObject { ["name"] = ApiCalls.UniqueName("no-key"), ["runtime"] = "external" }.ToJsonString();
        using var first = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body);

        using var second = await client.SendJsonAsync(HttpMethod.Post, "/workspaces", body);

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        Assert.Equal("NAME_TAKEN", (string?)(await second.ProblemAsync())["error"]);
    }
}
