using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Infrastructure;

/// <summary>
/// The real host (Program) on a real, fresh database, with the local runner and two fast sim providers
/// (no latency, 0.2 s boot, 0.1 s describe lag) and a 0.2 s poll, so a create reaches online in well under a second.
/// Extra settings override any of these, e.g. to slow the boot down.
/// </summary>
public sealed class ApiFactory(
    TestDatabase database,
    IReadOnlyDictionary<string, string?>? settings = null,
    Action<IServiceCollection>? services = null) : WebApplicationFactory<Program>
{
    public const string AdminToken = "molecule-dev-token";

    public TestDatabase Database => database;

    public SimProvider Sim(string name) => (SimProvider)Services.GetRequiredService<ProviderRegistry>().Get(name);

    public HttpClient AdminClient() => ClientWithToken(AdminToken);

    public HttpClient ClientWithToken(string? token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        var defaults = new Dictionary<string, string?>
        {
            ["ConnectionStrings:Postgres"] = database.ConnectionString,
            ["Molecule:DeploymentId"] = "test",
            ["Molecule:Providers:sim-east:Type"] = "sim",
            ["Molecule:Providers:sim-east:LatencyMs"] = "0",
            ["Molecule:Providers:sim-east:BootSeconds"] = "0.2",
            ["Molecule:Providers:sim-east:DescribeLagSeconds"] = "0.1",
            ["Molecule:Providers:sim-west:Type"] = "sim",
            ["Molecule:Providers:sim-west:LatencyMs"] = "0",
            ["Molecule:Providers:sim-west:BootSeconds"] = "0.2",
            ["Molecule:Providers:sim-west:DescribeLagSeconds"] = "0.1",
            ["Molecule:Operations:PollIntervalSeconds"] = "0.2",
            // one boot tick per host, then quiet: a sweep must not change the database between a test's two reads
            ["Molecule:Sweeps:IntervalSeconds"] = "3600",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            defaults[key] = value;
        }

        foreach (var (key, value) in defaults)
        {
            builder.UseSetting(key, value);
        }

        if (services is not null)
        {
            builder.ConfigureTestServices(services);
        }
    }
}

/// <summary>The dispatch settings of a role that hands operations off in AWS, for tests in which nothing is handed off.</summary>
public static class DispatchTableSettings
{
    /// <summary>
    /// Adds dispatch to a DynamoDB table, as the <c>api</c> and <c>sweeps</c> roles have it in AWS (they refuse to start
    /// without one), at a loopback address where nothing answers: nothing in such a test dispatches.
    /// </summary>
    public static Dictionary<string, string?> WithUnreachableDispatchTable(this Dictionary<string, string?> settings)
    {
        settings["Molecule:Dispatch:Mode"] = "dynamodb";
        settings["Molecule:Dispatch:TableName"] = "molecule-dispatch";
        settings["Molecule:Dispatch:ServiceUrl"] = "http://127.0.0.1:9";
        return settings;
    }
}

/// <summary>
/// One fresh database and one host for a whole test class (<c>IClassFixture&lt;ApiFixture&gt;</c>), for classes with many
/// small cases where a host per test would cost more than the tests. Tests in such a class share rows, so each
/// uses unique names or a parent filter.
/// </summary>
public sealed class ApiFixture : IAsyncLifetime
{
    public TestDatabase Database { get; } = new();

    public ApiFactory Factory { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Database.InitializeAsync();
        Factory = new ApiFactory(Database);
    }

    public async Task DisposeAsync()
    {
        if (Factory is not null)
        {
            await Factory.DisposeAsync();
        }

        await Database.DisposeAsync();
    }
}

/// <summary>
/// A host on a database of its own, for a test in an <see cref="ApiFixture"/> class that needs other settings (a slow
/// boot, say). On the class's database the class's host would adopt this host's new operations (a lease is free until
/// the starting replica takes it) and walk them with its own, fast, settings.
/// </summary>
public sealed class IsolatedHost : IAsyncDisposable
{
    private IsolatedHost(TestDatabase database, ApiFactory factory)
    {
        Database = database;
        Factory = factory;
    }

    public TestDatabase Database { get; }

    public ApiFactory Factory { get; }

    public static async Task<IsolatedHost> StartAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var database = new TestDatabase();
        await database.InitializeAsync();
        return new IsolatedHost(database, new ApiFactory(database, settings));
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Database.DisposeAsync();
    }
}

/// <summary>Small HTTP conveniences shared by the API tests.</summary>
public static class ApiCalls
{
    public static async Task<JsonObject> CreateWorkspaceAsync(this HttpClient client, object body)
    {
        using var response = await client.PostAsJsonAsync("/workspaces", body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"create answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonNode?> GetJsonAsync(this HttpClient client, string path)
    {
        using var response = await client.GetAsync(path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"GET {path} answered {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text);
    }

    /// <summary>Polls a workspace until its status is <paramref name="status"/> (bounded by <paramref name="timeout"/>).</summary>
    public static async Task<JsonObject> WaitForStatusAsync(this HttpClient client, string workspaceId, string status, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = (await client.GetJsonAsync($"/workspaces/{workspaceId}?include_removed=true"))!.AsObject();
            if ((string?)last["status"] == status)
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"workspace {workspaceId} did not reach {status}; last: {last?.ToJsonString()}");
    }

    /// <summary>Polls an operation until it is no longer pending or running.</summary>
    public static async Task<JsonObject> WaitForOperationEndAsync(this HttpClient client, string operationId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = (await client.GetJsonAsync($"/operations/{operationId}"))!.AsObject();
            if ((string?)last["state"] is not ("pending" or "running"))
            {
                return last;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"operation {operationId} did not end; last: {last?.ToJsonString()}");
    }

    public static async Task<JsonObject> ProblemAsync(this HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
    }

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);

    /// <summary>A workspace name no other test uses, so tests sharing a database never collide.</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    /// <summary>Sends <paramref name="json"/> exactly as written (no serializer in between), for bad and hostile input.</summary>
    public static Task<HttpResponseMessage> SendJsonAsync(this HttpClient client, HttpMethod method, string path, string? json,
        IReadOnlyDictionary<string, string>? headers = null) =>
        client.SendBytesAsync(method, path, json is null ? null : System.Text.Encoding.UTF8.GetBytes(json), headers);

    public static Task<HttpResponseMessage> SendBytesAsync(this HttpClient client, HttpMethod method, string path, byte[]? body,
        IReadOnlyDictionary<string, string>? headers = null)
    {
        var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        foreach (var (name, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return client.SendAsync(request);
    }

    /// <summary>Creates a workspace and waits for its create operation to end, so no background write follows the call.</summary>
    public static async Task<JsonObject> CreateSettledWorkspaceAsync(this HttpClient client, object body)
    {
        var created = await client.CreateWorkspaceAsync(body);
        if (created["operation"]?["id"] is { } operationId)
        {
            var operation = await client.WaitForOperationEndAsync((string)operationId!);
            Assert.True((string?)operation["state"] == "succeeded", $"create did not succeed: {operation.ToJsonString()}");
        }

        return created;
    }
}
