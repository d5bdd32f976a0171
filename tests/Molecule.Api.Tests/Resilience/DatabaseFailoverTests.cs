using System.Net;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;
using Npgsql;

namespace Molecule.Api.Tests.Resilience;

/// <summary>
/// A database failover or restart drops every open connection. A request that meets such a connection answers 503
/// <c>DATABASE_UNAVAILABLE</c> with <c>Retry-After</c> (the canvas retries 503s) — never a 500 — and the next
/// requests get through on fresh connections.
/// </summary>
public sealed class DatabaseFailoverTests : IAsyncLifetime
{
    private readonly TestDatabase database = new();
    private ApiFactory factory = null!;

    [Fact]
    public async Task Requests_on_connections_the_server_dropped_answer_503_database_unavailable_then_recover()
    {
        var client = factory.AdminClient();
        var created = await client.CreateSettledWorkspaceAsync(new { name = ApiCalls.UniqueName("failover") });
        // several idle connections in the app's pool, each of which the "failover" below will break
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => client.GetJsonAsync($"/workspaces/{created["id"]}")));

        await DropEveryConnectionAsync();
        var answers = new List<(HttpStatusCode Status, string? Error, string? RetryAfter)>();
        for (var attempt = 0; attempt < 20; attempt++)
        {
            using var response = await client.GetAsync($"/workspaces/{created["id"]}");
            var error = response.IsSuccessStatusCode ? null : (string?)(await response.ProblemAsync())["error"];
            answers.Add((response.StatusCode, error, response.Headers.RetryAfter?.ToString()));
            if (response.IsSuccessStatusCode)
            {
                break;
            }
        }

        Assert.Equal(HttpStatusCode.OK, answers[^1].Status);
        var failed = answers.Take(answers.Count - 1).ToList();
        Assert.NotEmpty(failed);
        Assert.All(failed, a =>
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, a.Status);
            Assert.Equal("DATABASE_UNAVAILABLE", a.Error);
            Assert.NotNull(a.RetryAfter);
        });
    }

    /// <summary>What a failover does to open connections: the server ends them (57P01 admin_shutdown).</summary>
    private async Task DropEveryConnectionAsync()
    {
        var name = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database;
        await using var admin = new NpgsqlConnection(TestDatabase.AdminConnectionString);
        await admin.OpenAsync();
        await using var cmd = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", admin);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        Assert.True((long)(await cmd.ExecuteScalarAsync())! > 0);
    }

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        factory = new ApiFactory(database);
    }

    public async Task DisposeAsync()
    {
        await factory.DisposeAsync();
        await database.DisposeAsync();
    }
}
