using System.Net;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Tests.Infrastructure;
using Npgsql;

namespace Molecule.Api.Tests.Migrate;

/// <summary>
/// <c>POST /internal/migrate</c> in the <c>migrate</c> role, fed the CloudFormation custom-resource events the Lambda
/// Web Adapter passes through, answering on a loopback response URL as CloudFormation's pre-signed S3 URL.
/// </summary>
public sealed class MigrateEndpointTests : IAsyncLifetime
{
    private CloudFormationListener cloudFormation = null!;

    public async Task InitializeAsync() => cloudFormation = await CloudFormationListener.StartAsync();

    public async Task DisposeAsync() => await cloudFormation.DisposeAsync();

    [Fact]
    public async Task Create_on_an_empty_database_applies_the_migrations_and_answers_SUCCESS()
    {
        var database = TestDatabase.Unmigrated();
        await database.InitializeAsync();
        try
        {
            await using var factory = MigrateHost(database.ConnectionString);

            using var response = await PostEventAsync(factory, Event("Create", "create-1"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var (path, document, hadContentType) = Assert.Single(cloudFormation.Puts);
            Assert.Equal("/cfn-response/create-1", path);
            Assert.Equal("SUCCESS", (string?)document["Status"]);
            Assert.Equal("molecule-schema", (string?)document["PhysicalResourceId"]);
            Assert.Equal("create-1", (string?)document["RequestId"]);
            Assert.Equal(StackId, (string?)document["StackId"]);
            Assert.Equal("Migrate", (string?)document["LogicalResourceId"]);
            Assert.False(hadContentType, "the pre-signed URL is signed without a Content-Type");
            Assert.Equal("workspaces", await database.ScalarAsync<string>("SELECT to_regclass('public.workspaces')::text"));
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Update_of_a_migrated_database_answers_SUCCESS_with_the_same_physical_id_and_changes_no_row()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            await database.ExecuteAsync("INSERT INTO workspaces (id, name, status, runtime, compute, created_at, updated_at) VALUES (gen_random_uuid(), 'kept', 'offline', 'agent', '{}', now(), now())");
            var before = await database.FingerprintAsync();
            await using var factory = MigrateHost(database.ConnectionString);

            using var response = await PostEventAsync(factory, Event("Update", "update-1", physicalResourceId: "molecule-schema"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = Assert.Single(cloudFormation.Puts).Document;
            Assert.Equal("SUCCESS", (string?)document["Status"]);
            Assert.Equal("molecule-schema", (string?)document["PhysicalResourceId"]);
            Assert.Equal(before, await database.FingerprintAsync());
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task Delete_answers_SUCCESS_and_drops_nothing()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            await database.ExecuteAsync("INSERT INTO workspaces (id, name, status, runtime, compute, created_at, updated_at) VALUES (gen_random_uuid(), 'survivor', 'offline', 'agent', '{}', now(), now())");
            var before = await database.FingerprintAsync();
            await using var factory = MigrateHost(database.ConnectionString);

            using var response = await PostEventAsync(factory, Event("Delete", "delete-1", physicalResourceId: "molecule-schema"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = Assert.Single(cloudFormation.Puts).Document;
            Assert.Equal("SUCCESS", (string?)document["Status"]);
            Assert.Equal("molecule-schema", (string?)document["PhysicalResourceId"]);
            Assert.Equal(before, await database.FingerprintAsync());
            Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE name = 'survivor'"));
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_database_that_cannot_be_reached_answers_FAILED_with_the_reason()
    {
        var missing = new NpgsqlConnectionStringBuilder(TestDatabase.AdminConnectionString) { Database = "molecule_no_such_db" }.ConnectionString;
        await using var factory = MigrateHost(missing);

        using var response = await PostEventAsync(factory, Event("Create", "fails-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = Assert.Single(cloudFormation.Puts).Document;
        Assert.Equal("FAILED", (string?)document["Status"]);
        Assert.Contains("molecule_no_such_db", (string?)document["Reason"]);
        Assert.Equal("molecule-schema", (string?)document["PhysicalResourceId"]);
    }

    [Fact]
    public async Task With_no_connection_string_the_migrate_role_still_starts_and_answers_FAILED_naming_what_is_missing()
    {
        await using var factory = MigrateHost("");

        using var response = await PostEventAsync(factory, Event("Create", "no-db-1"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var document = Assert.Single(cloudFormation.Puts).Document;
        Assert.Equal("FAILED", (string?)document["Status"]);
        Assert.Contains("Molecule:Database:ConnectionStringParameter", (string?)document["Reason"]);
    }

    [Fact]
    public async Task A_migration_blocked_past_its_budget_answers_FAILED_within_the_budget()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            // another migrator holds the advisory lock and never lets go
            await using var holder = await database.DataSource.OpenConnectionAsync();
            await using (var hold = new NpgsqlCommand("SELECT pg_advisory_lock(7885640655265164389)", holder))
            {
                await hold.ExecuteNonQueryAsync();
            }

            await using var factory = MigrateHost(database.ConnectionString, new Dictionary<string, string?> { ["Molecule:Migrate:BudgetSeconds"] = "2" });
            var started = DateTime.UtcNow;

            using var response = await PostEventAsync(factory, Event("Update", "blocked-1", physicalResourceId: "molecule-schema"));

            Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(10));
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var document = Assert.Single(cloudFormation.Puts).Document;
            Assert.Equal("FAILED", (string?)document["Status"]);
            Assert.Contains("did not finish within 2 s", (string?)document["Reason"]);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    [Fact]
    public async Task An_unknown_request_type_answers_FAILED()
    {
        await using var factory = MigrateHost("");

        using var response = await PostEventAsync(factory, Event("Rollback", "odd-1"));

        var document = Assert.Single(cloudFormation.Puts).Document;
        Assert.Equal("FAILED", (string?)document["Status"]);
        Assert.Contains("unknown RequestType 'Rollback'", (string?)document["Reason"]);
    }

    [Fact]
    public async Task A_response_url_that_fails_once_is_answered_on_the_next_try()
    {
        cloudFormation.FailFirst = 1;
        await using var factory = MigrateHost("");

        using var response = await PostEventAsync(factory, Event("Delete", "retry-1", physicalResourceId: "molecule-schema"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, cloudFormation.Puts.Count);
        Assert.All(cloudFormation.Puts, put => Assert.Equal("SUCCESS", (string?)put.Document["Status"]));
    }

    [Fact]
    public async Task A_response_url_that_never_answers_fails_the_invocation_so_lambda_retries_it()
    {
        cloudFormation.FailFirst = 100;
        await using var factory = MigrateHost("");

        using var response = await PostEventAsync(factory, Event("Delete", "never-1", physicalResourceId: "molecule-schema"));

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("CFN_RESPONSE_FAILED", (string?)(await response.ProblemAsync())["error"]);
        Assert.Equal(3, cloudFormation.Puts.Count);
    }

    [Fact]
    public async Task An_event_that_is_not_a_custom_resource_request_is_a_400_and_answers_nothing()
    {
        await using var factory = MigrateHost("");

        using var response = await factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/migrate", """{"RequestType":"Create"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("ResponseURL", (string?)(await response.ProblemAsync())["detail"]);
        Assert.Empty(cloudFormation.Puts);
    }

    [Fact]
    public async Task The_api_role_does_not_serve_the_migrate_endpoint()
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        try
        {
            // the api role hands operations to the dispatch table; nothing here dispatches, so no table is reachable
            await using var factory = new ApiFactory(database, new Dictionary<string, string?> { ["Molecule:Role"] = "api" }.WithUnreachableDispatchTable());

            using var response = await factory.AdminClient().SendJsonAsync(HttpMethod.Post, "/internal/migrate", Event("Create", "api-1").ToJsonString());

            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Empty(cloudFormation.Puts);
        }
        finally
        {
            await database.DisposeAsync();
        }
    }

    private const string StackId = "arn:aws:cloudformation:us-east-1:123456789012:stack/molecule/4d5a6f10-0000-0000-0000-000000000000";

    private JsonObject Event(string requestType, string requestId, string? physicalResourceId = null)
    {
        var body = new JsonObject
        {
            ["RequestType"] = requestType,
            ["ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:molecule-MigrateFunction",
            ["ResponseURL"] = cloudFormation.ResponseUrl(requestId).ToString(),
            ["StackId"] = StackId,
            ["RequestId"] = requestId,
            ["LogicalResourceId"] = "Migrate",
            ["ResourceType"] = "Custom::Migrate",
            ["ResourceProperties"] = new JsonObject { ["ServiceToken"] = "arn:aws:lambda:us-east-1:123456789012:function:molecule-MigrateFunction" },
        };
        if (physicalResourceId is not null)
        {
            body["PhysicalResourceId"] = physicalResourceId;
        }

        return body;
    }

    /// <summary>The migrate role on <paramref name="connectionString"/> (empty: none at all), migrations off at start as in AWS.</summary>
    private static ApiFactory MigrateHost(string connectionString, IReadOnlyDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Molecule:Role"] = "migrate",
            ["Molecule:MigrateOnStart"] = "false",
            ["ConnectionStrings:Postgres"] = connectionString,
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        // the factory's own database is never created: the connection string above replaces it
        return new ApiFactory(new TestDatabase(), settings);
    }

    private static Task<HttpResponseMessage> PostEventAsync(ApiFactory factory, JsonObject cloudFormationEvent) =>
        factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/migrate", cloudFormationEvent.ToJsonString());
}
