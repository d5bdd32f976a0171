using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Molecule.Api.Tests.Infrastructure;
using Molecule.Workspaces.Providers;
using Molecule.Workspaces.Providers.Sim;
using Molecule.Workspaces.Tests.Infrastructure;

namespace Molecule.Api.Tests.Chaos;

/// <summary>
/// The chaos run of DESIGN §12: every kind of request, concurrently, against clouds that fail 15 % of calls and
/// lose boxes from outside; then the faults stop, the sweeps settle the system, and the invariants must hold.
/// Bounded in requests and time; it stops by itself.
/// </summary>
public sealed class ChaosInvariantTests(TestDatabase database) : IClassFixture<TestDatabase>
{
    private static readonly TimeSpan ChaosFor = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan SettleWithin = TimeSpan.FromSeconds(90);
    private const int Workers = 6;

    [Fact]
    public async Task After_chaos_and_settling_no_box_leaks_no_row_lies_and_no_claim_is_stranded()
    {
        await using var factory = new ApiFactory(database, new Dictionary<string, string?>
        {
            ["Molecule:Providers:sim-east:BootSeconds"] = "0.3",
            ["Molecule:Providers:sim-west:BootSeconds"] = "0.3",
            ["Molecule:Sweeps:IntervalSeconds"] = "1",
            ["Molecule:Sweeps:ReconcileGraceSeconds"] = "1",
            ["Molecule:Sweeps:LeakGraceSeconds"] = "3",
        });
        var client = factory.AdminClient();
        foreach (var sim in new[] { factory.Sim("sim-east"), factory.Sim("sim-west") })
        {
            sim.Faults.SetAll(new SimFault(0.15, 2, 0));
        }

        var deadline = DateTime.UtcNow + ChaosFor;
        var requests = await Task.WhenAll(Enumerable.Range(0, Workers).Select(worker => Task.Run(() => ChaosWorkerAsync(factory, client, worker, deadline))));

        foreach (var sim in new[] { factory.Sim("sim-east"), factory.Sim("sim-west") })
        {
            sim.Faults.Clear();
        }

        await SettleAsync();
        // past the leak grace and a few more sweeps, every unowned box must be gone
        await Task.Delay(TimeSpan.FromSeconds(5));
        await SettleAsync();

        Assert.True(requests.Sum() > 50, $"the chaos run made only {requests.Sum()} requests");
        await AssertInvariantsAsync(factory);
    }

    private static async Task<int> ChaosWorkerAsync(ApiFactory factory, HttpClient client, int worker, DateTime deadline)
    {
        var random = new Random(worker);
        var made = 0;
        string? box, provider;
        while (DateTime.UtcNow < deadline && made < 400)
        {
            made++;
            var ids = await LiveIdsAsync(client);
            var target = ids.Count == 0 ? null : ids[random.Next(ids.Count)];
            try
            {
                switch (target is null ? 0 : random.Next(9))
                {
                    case 0:
                    case 1:
                        var parent = ids.Count > 0 && random.Next(3) == 0 ? ids[random.Next(ids.Count)] : null;
                        using (await client.PostAsJsonAsync("/workspaces", new
                        {
                            name = $"chaos-{worker}-{made}",
                            parent_id = parent,
                            compute = new { provider = random.Next(2) == 0 ? "sim-east" : "sim-west" },
                        }))
                        {
                        }

                        break;
                    case 2:
                        using (await client.PostAsJsonAsync($"/workspaces/{target}/switch-provider", new { provider = random.Next(2) == 0 ? "sim-east" : "sim-west" }))
                        {
                        }

                        break;
                    case 3:
                        using (await client.PostAsync($"/workspaces/{target}/restart", null))
                        {
                        }

                        break;
                    case 4:
                        using (await client.PostAsync($"/workspaces/{target}/pause?cascade=true", null))
                        {
                        }

                        break;
                    case 5:
                        using (await client.PostAsync($"/workspaces/{target}/resume?cascade=true", null))
                        {
                        }

                        break;
                    case 6:
                        using (await client.DeleteAsync($"/workspaces/{target}?confirm=true"))
                        {
                        }

                        break;
                    case 7:
                        using (var read = await client.GetAsync($"/workspaces/{target}"))
                        {
                            var row = read.IsSuccessStatusCode ? JsonNode.Parse(await read.Content.ReadAsStringAsync()) : null;
                            box = row?["instance_id"]?.ToString();
                            provider = row?["instance_provider"]?.ToString();
                        }

                        if (box is not null && provider is not null)
                        {
                            using (await client.PostAsync($"/sim/instances/{provider}/{box}/kill", null))
                            {
                            }
                        }

                        break;
                    default:
                        using (await client.PatchAsJsonAsync($"/workspaces/{target}", new { name = $"renamed-{worker}-{made}" }))
                        {
                        }

                        break;
                }
            }
            catch (HttpRequestException)
            {
            }
        }

        return made;
    }

    private async Task SettleAsync()
    {
        var until = DateTime.UtcNow + SettleWithin;
        while (DateTime.UtcNow < until)
        {
            var busy = await database.ScalarAsync<long>("""
                SELECT (SELECT count(*) FROM operations WHERE state IN ('pending', 'running'))
                     + (SELECT count(*) FROM workspaces WHERE claim_id IS NOT NULL)
                     + (SELECT count(*) FROM pending_terminations)
                     + (SELECT count(*) FROM workspaces WHERE status = 'removed' AND instance_id IS NOT NULL)
                     + (SELECT count(*) FROM workspaces WHERE status = 'offline' AND runtime <> 'external')
                """);
            if (busy == 0)
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException("the system did not settle: " + await database.ScalarAsync<string>("""
            SELECT concat('active ops ', (SELECT count(*) FROM operations WHERE state IN ('pending', 'running')),
                          ', claims ', (SELECT count(*) FROM workspaces WHERE claim_id IS NOT NULL),
                          ', queued ', (SELECT count(*) FROM pending_terminations),
                          ', removed with box ', (SELECT count(*) FROM workspaces WHERE status = 'removed' AND instance_id IS NOT NULL),
                          ', offline ', (SELECT count(*) FROM workspaces WHERE status = 'offline'))
            """));
    }

    private async Task AssertInvariantsAsync(ApiFactory factory)
    {
        var boxes = new List<(string Provider, ManagedInstance Box)>();
        foreach (var sim in new[] { factory.Sim("sim-east"), factory.Sim("sim-west") })
        {
            boxes.AddRange((await sim.ListAllAsync(CancellationToken.None)).Select(b => (sim.Name, b)));
        }

        // 1. every live box is the box of exactly one live workspace (the queue is empty and the leak grace has passed)
        foreach (var (provider, box) in boxes)
        {
            var owners = await database.ScalarAsync<long>(
                "SELECT count(*) FROM workspaces WHERE status <> 'removed' AND instance_provider = $1 AND instance_id = $2", provider, box.InstanceId);
            Assert.True(owners == 1, $"box {box.InstanceId} on {provider} has {owners} owners");
        }

        // 2. no row is online over a dead box
        var online = await RowsAsync("SELECT instance_provider, instance_id FROM workspaces WHERE status = 'online'");
        foreach (var (provider, instanceId) in online)
        {
            Assert.Contains(boxes, b => b.Provider == provider && b.Box.InstanceId == instanceId && b.Box.State == InstanceState.Running);
        }

        // 3. no claim is left, and nothing is stuck provisioning
        Assert.Equal(0, await database.ScalarAsync<long>("SELECT count(*) FROM workspaces WHERE claim_id IS NOT NULL OR status = 'provisioning'"));

        // every row that should have a box has one, and every row without a box is in a status that says so
        Assert.Equal(0, await database.ScalarAsync<long>(
            "SELECT count(*) FROM workspaces WHERE status = 'online' AND instance_id IS NULL"));
        Assert.Equal(0, await database.ScalarAsync<long>(
            "SELECT count(*) FROM workspaces WHERE status IN ('paused', 'failed') AND instance_id IS NOT NULL"));
    }

    private async Task<List<(string, string)>> RowsAsync(string sql)
    {
        await using var cmd = database.DataSource.CreateCommand(sql);
        await using var reader = await cmd.ExecuteReaderAsync();
        var rows = new List<(string, string)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1)));
        }

        return rows;
    }

    private static async Task<List<string>> LiveIdsAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/workspaces?limit=500");
        if (!response.IsSuccessStatusCode)
        {
            return [];
        }

        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsArray().Select(w => (string)w!["id"]!).ToList();
    }
}
