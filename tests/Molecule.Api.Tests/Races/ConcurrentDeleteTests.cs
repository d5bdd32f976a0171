using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;

namespace Molecule.Api.Tests.Races;

/// <summary>Two DELETEs of one live workspace at once: one removes it, the other is a retry of it and answers as one.</summary>
public sealed class ConcurrentDeleteTests(ApiFixture api) : IClassFixture<ApiFixture>
{
    private const int Rounds = 10;
    private const int Deleters = 8;

    [Fact]
    public async Task Concurrent_deletes_of_one_workspace_answer_one_200_and_410s()
    {
        var client = api.Factory.AdminClient();
        for (var round = 0; round < Rounds; round++)
        {
            var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("twin-delete") });
            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var deletes = Enumerable.Range(0, Deleters).Select(_ => Task.Run(async () =>
            {
                await start.Task;
                using var response = await client.DeleteAsync($"/workspaces/{created["id"]}");
                return (response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            })).ToArray();

            start.SetResult();
            var answers = await Task.WhenAll(deletes);

            var ok = Assert.Single(answers, a => a.StatusCode == HttpStatusCode.OK);
            Assert.Equal(0, (int?)JsonNode.Parse(ok.Body)!["cascade_deleted"]);
            Assert.All(answers.Where(a => a.StatusCode != HttpStatusCode.OK), a =>
            {
                Assert.True(a.StatusCode == HttpStatusCode.Gone, $"a losing delete answered {(int)a.StatusCode}: {a.Body}");
                Assert.Equal("workspace removed", (string?)JsonNode.Parse(a.Body)!["error"]);
            });
        }
    }
}
