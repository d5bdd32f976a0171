using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Operations;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Workers;

/// <summary>
/// Role <c>sweeps</c>: each <c>POST /internal/sweeps/...</c> runs exactly one tick of its sweep and answers its
/// figures; a tick of the same sweep still running → 409 <c>SWEEP_RUNNING</c>. No timer ticks in this role.
/// </summary>
public sealed class SweepTickEndpointTests(SweepTickEndpointTests.SweepsHost host) : IClassFixture<SweepTickEndpointTests.SweepsHost>
{
    [Fact]
    public async Task An_orphan_tick_terminates_a_removed_rows_box_and_answers_the_ticks_figures()
    {
        var workspace = await host.Side.CreateOnlineAsync(ApiCalls.UniqueName("orphan"));
        var box = await host.Database.ScalarAsync<string>("SELECT instance_id FROM workspaces WHERE id = $1", workspace);
        await host.Side.MarkRemovedAsync(workspace);

        using var response = await host.Factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/sweeps/orphans",
            """{"version":"0","detail-type":"Scheduled Event","source":"aws.scheduler","detail":{}}""");

        var tick = await OkBodyAsync(response);
        Assert.Equal("orphan-sweeper", (string?)tick["sweep"]);
        Assert.True((long)tick["terminated"]! >= 1, tick.ToJsonString());
        Assert.Equal(0, (int)tick["tick_failed"]!);
        Assert.Equal(0, (int)tick["budget_exhausted"]!);
        Assert.True((double)tick["duration_ms"]! >= 0);
        Assert.DoesNotContain(await Sim("sim-east").ListAllAsync(CancellationToken.None), b => b.InstanceId == box);
    }

    [Fact]
    public async Task A_reconcile_tick_answers_the_ticks_figures_with_an_empty_body()
    {
        using var response = await host.Factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/sweeps/reconcile", null);

        var tick = await OkBodyAsync(response);
        Assert.Equal("instance-reconciler", (string?)tick["sweep"]);
        Assert.Equal(0, (int)tick["tick_failed"]!);
        Assert.True(tick.Count > 6, $"the tick's counts are missing: {tick.ToJsonString()}");
    }

    [Fact]
    public async Task A_second_tick_of_a_sweep_still_running_is_a_409_and_the_first_completes()
    {
        // the leak pass lists every provider: slow that down so the first tick is still running
        var west = Sim("sim-west");
        west.Faults.Set(SimCall.List, new SimFault(0, 2000, 0));
        try
        {
            var client = host.Factory.ClientWithToken(null);
            var listsBefore = west.Calls.Count(SimCall.List);
            var first = client.SendJsonAsync(HttpMethod.Post, "/internal/sweeps/orphans", "{}");
            for (var i = 0; i < 200 && west.Calls.Count(SimCall.List) == listsBefore; i++)
            {
                await Task.Delay(25);
            }

            Assert.True(west.Calls.Count(SimCall.List) > listsBefore, "the first tick never reached the slow list call");
            using var second = await client.SendJsonAsync(HttpMethod.Post, "/internal/sweeps/orphans", "{}");
            using var reconcile = await client.SendJsonAsync(HttpMethod.Post, "/internal/sweeps/reconcile", "{}");
            using var firstResponse = await first;

            Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
            var problem = await second.ProblemAsync();
            Assert.Equal("SWEEP_RUNNING", (string?)problem["error"]);
            Assert.Equal("orphan-sweeper", (string?)problem["sweep"]);
            Assert.Equal(HttpStatusCode.OK, firstResponse.StatusCode);
            Assert.Equal(HttpStatusCode.OK, reconcile.StatusCode);
        }
        finally
        {
            west.Faults.Clear();
        }
    }

    [Fact]
    public async Task A_tick_while_another_process_holds_the_sweeps_lock_is_a_409()
    {
        await using var other = await host.Database.DataSource.OpenConnectionAsync();
        await using (var take = other.CreateCommand())
        {
            // what a second process's tick of the reconciler holds (SweepLockStore)
            take.CommandText = "SELECT pg_advisory_lock(hashtextextended('molecule.sweep:instance-reconciler', 0))";
            await take.ExecuteNonQueryAsync();
        }

        using var response = await host.Factory.ClientWithToken(null).SendJsonAsync(HttpMethod.Post, "/internal/sweeps/reconcile", "{}");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Equal("SWEEP_RUNNING", (string?)(await response.ProblemAsync())["error"]);
    }

    [Fact]
    public async Task The_sweeps_role_serves_no_steps_and_no_public_api()
    {
        var client = host.Factory.AdminClient();

        using var steps = await client.SendJsonAsync(HttpMethod.Post, "/internal/steps", """{"step":"begin"}""");
        using var workspaces = await client.GetAsync("/workspaces");

        Assert.Equal(HttpStatusCode.NotFound, steps.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, workspaces.StatusCode);
    }

    private SimProvider Sim(string name) => host.Factory.Sim(name);

    private static async Task<JsonObject> OkBodyAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    /// <summary>The app in role <c>sweeps</c> (the sweep functions), handing off through dynalite as in AWS.</summary>
    public sealed class SweepsHost : IAsyncLifetime
    {
        public TestDatabase Database { get; } = new();

        public DynaliteServer Dynalite { get; } = new();

        public ApiFactory Factory { get; private set; } = null!;

        public ScenarioSide Side { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            await Database.InitializeAsync();
            await Dynalite.InitializeAsync();
            Factory = new ApiFactory(Database, new Dictionary<string, string?>
            {
                ["Molecule:Role"] = "sweeps",
                ["Molecule:Dispatch:Mode"] = "dynamodb",
                ["Molecule:Dispatch:TableName"] = DynaliteServer.TableName,
                ["Molecule:Dispatch:ServiceUrl"] = Dynalite.ServiceUrl,
                ["Molecule:Providers:sim-east:BootSeconds"] = "0",
                ["Molecule:Providers:sim-east:DescribeLagSeconds"] = "0",
            }, services => services.AddSingleton(_ => Dynalite.CreateClient()));
            Side = ScenarioSide.From(Database, Factory.Services, new ScriptedStepExecutor(Factory.Services.GetRequiredService<StepExecutor>()));
        }

        public async Task DisposeAsync()
        {
            await Factory.DisposeAsync();
            await Dynalite.DisposeAsync();
            await Database.DisposeAsync();
        }
    }
}
