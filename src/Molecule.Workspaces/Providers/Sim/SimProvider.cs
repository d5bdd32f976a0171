using System.Security.Cryptography;
using System.Text.Json;
using Molecule.Workspaces.Domain;
using Npgsql;
using NpgsqlTypes;

namespace Molecule.Workspaces.Providers.Sim;

/// <summary>
/// A simulated cloud that behaves like one: instances live in Postgres (<c>sim_instances</c>) so they survive
/// restarts and are shared between processes; every call has latency and may fail transiently; a new box is
/// <c>pending</c> for a boot time and invisible to describe for a lag (eventual consistency); a box can be killed
/// from outside. The embedded default provider and the chaos harness, not a test double.
/// </summary>
public sealed class SimProvider(
    string name,
    SimProviderOptions options,
    string deploymentId,
    NpgsqlDataSource db,
    TimeProvider time) : IComputeProvider
{
    public const string ProviderType = "sim";

    /// <summary>Boxes per list page, as EC2's <c>MaxResults</c>.</summary>
    public const int ListPageSize = 1000;

    private readonly Lock randomGate = new();
    private readonly Random random = new();

    public string Name => name;

    public string Type => ProviderType;

    public SimFaults Faults { get; } = new();

    /// <summary>Calls made to this provider, per kind and per terminated id: what the chaos run and tests count.</summary>
    public SimCallLog Calls { get; } = new();

    public SimProviderOptions Options => options;

    public async Task<string> ProvisionAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        await EnterCallAsync(SimCall.Provision, ct);
        return await OnStoreAsync(() => InsertAsync(spec, idempotencyToken, tags, ct), ct);
    }

    private async Task<string> InsertAsync(InstanceSpec spec, string idempotencyToken, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        var allTags = new Dictionary<string, string>(tags, StringComparer.Ordinal) { [ProviderTags.Deployment] = deploymentId };
        var now = time.GetUtcNow();

        // ClientToken semantics: the same token returns the box it started the first time and starts nothing.
        const string sql = """
            WITH inserted AS (
                INSERT INTO sim_instances (provider, instance_id, client_token, instance_type, state, tags, launched_at, running_at, visible_at)
                VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8)
                ON CONFLICT (provider, client_token) DO NOTHING
                RETURNING instance_id
            )
            SELECT instance_id FROM inserted
            UNION ALL
            SELECT instance_id FROM sim_instances WHERE provider = $1 AND client_token = $3
            LIMIT 1
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = NewInstanceId() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = idempotencyToken });
        cmd.Parameters.Add(new NpgsqlParameter { Value = spec.InstanceType ?? options.InstanceType });
        cmd.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(allTags, DomainJson.Default.DictionaryStringString), NpgsqlDbType = NpgsqlDbType.Jsonb });
        cmd.Parameters.Add(new NpgsqlParameter { Value = now });
        cmd.Parameters.Add(new NpgsqlParameter { Value = now + TimeSpan.FromSeconds(options.BootSeconds) });
        cmd.Parameters.Add(new NpgsqlParameter { Value = now + TimeSpan.FromSeconds(options.DescribeLagSeconds) });
        var id = await cmd.ExecuteScalarAsync(ct);

        // The concurrent twin of this insert may not be visible yet in our snapshot; one more read settles it.
        return id as string ?? await ReadIdByTokenAsync(idempotencyToken, ct)
            ?? throw new ProviderException(name, ProviderErrorKind.Transient, "provision raced with itself; retry");
    }

    public async Task<IReadOnlyDictionary<string, InstanceState>> DescribeAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        if (instanceIds.Count == 0)
        {
            return new Dictionary<string, InstanceState>(StringComparer.Ordinal);
        }

        await EnterCallAsync(SimCall.Describe, ct);
        return await OnStoreAsync(() => ReadStatesAsync(instanceIds, ct), ct);
    }

    private async Task<IReadOnlyDictionary<string, InstanceState>> ReadStatesAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var result = new Dictionary<string, InstanceState>(StringComparer.Ordinal);
        const string sql = """
            SELECT instance_id,
                   CASE WHEN state = 'pending' AND running_at <= $3 THEN 'running' ELSE state END
              FROM sim_instances
             WHERE provider = $1 AND instance_id = ANY($2) AND visible_at <= $3
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = instanceIds.Distinct().ToArray() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            result[reader.GetString(0)] = ParseState(reader.GetString(1));
        }

        foreach (var id in instanceIds)
        {
            result.TryAdd(id, InstanceState.NotFound);
        }

        return result;
    }

    public async Task<IReadOnlyDictionary<string, TerminateResult>> TerminateAsync(IReadOnlyCollection<string> instanceIds, CancellationToken ct)
    {
        var result = new Dictionary<string, TerminateResult>(StringComparer.Ordinal);
        if (instanceIds.Count == 0)
        {
            return result;
        }

        Calls.RecordTerminate(instanceIds);
        await EnterCallAsync(SimCall.Terminate, ct);
        await OnStoreAsync(() => MarkTerminatedAsync(instanceIds.Distinct().ToArray(), ct), ct);

        // unknown and already-terminated ids count as terminated, as the contract says
        foreach (var id in instanceIds)
        {
            result[id] = TerminateResult.Ok;
        }

        return result;
    }

    /// <summary>A page of this deployment's boxes in instance-id order; the token is the last id of the page before.</summary>
    public async Task<ManagedInstancePage> ListManagedAsync(string? pageToken, CancellationToken ct)
    {
        // a cloud's list pays its latency (and may fail) per page, as EC2's DescribeInstances does
        await EnterCallAsync(SimCall.List, ct);
        var page = await OnStoreAsync(() => ListPageAsync(onlyManaged: true, pageToken ?? "", ct), ct);
        return new ManagedInstancePage(page, page.Count == ListPageSize ? page[^1].InstanceId : null);
    }

    /// <summary>Every instance of this provider that is not terminated, whatever its tags (the admin view).</summary>
    public async Task<IReadOnlyList<ManagedInstance>> ListAllAsync(CancellationToken ct)
    {
        var all = new List<ManagedInstance>();
        var after = "";
        while (true)
        {
            var page = await ListPageAsync(onlyManaged: false, after, ct);
            all.AddRange(page);
            if (page.Count < ListPageSize)
            {
                return all;
            }

            after = page[^1].InstanceId;
        }
    }

    /// <summary>Kills a box from outside, as a spot reclaim or an operator's console would. False if it was not alive.</summary>
    public async Task<bool> KillAsync(string instanceId, CancellationToken ct) => await MarkTerminatedAsync([instanceId], ct) == 1;

    /// <summary>The one state change both a terminate call and a kill from outside make; returns the boxes it ended.</summary>
    private async Task<int> MarkTerminatedAsync(string[] instanceIds, CancellationToken ct)
    {
        const string sql = """
            UPDATE sim_instances
               SET state = 'terminated', terminated_at = $3
             WHERE provider = $1 AND instance_id = ANY($2) AND state <> 'terminated'
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = instanceIds });
        cmd.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    private async Task<IReadOnlyList<ManagedInstance>> ListPageAsync(bool onlyManaged, string after, CancellationToken ct)
    {
        const string sql = """
            SELECT instance_id,
                   CASE WHEN state = 'pending' AND running_at <= $3 THEN 'running' ELSE state END,
                   launched_at, tags::text
              FROM sim_instances
             WHERE provider = $1
               AND state <> 'terminated'
               AND (NOT $2 OR tags->>'molecule:deployment' = $4)
               AND instance_id > $5
             ORDER BY instance_id
             LIMIT $6
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = onlyManaged });
        cmd.Parameters.Add(new NpgsqlParameter { Value = time.GetUtcNow() });
        cmd.Parameters.Add(new NpgsqlParameter { Value = deploymentId });
        cmd.Parameters.Add(new NpgsqlParameter { Value = after });
        cmd.Parameters.Add(new NpgsqlParameter { Value = ListPageSize });
        var instances = new List<ManagedInstance>();
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            var tags = JsonSerializer.Deserialize(reader.GetString(3), DomainJson.Default.DictionaryStringString) ?? [];
            instances.Add(new ManagedInstance(reader.GetString(0), ParseState(reader.GetString(1)), reader.GetFieldValue<DateTimeOffset>(2), tags));
        }

        return instances;
    }

    private async Task<string?> ReadIdByTokenAsync(string token, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand("SELECT instance_id FROM sim_instances WHERE provider = $1 AND client_token = $2");
        cmd.Parameters.Add(new NpgsqlParameter { Value = name });
        cmd.Parameters.Add(new NpgsqlParameter { Value = token });
        return await cmd.ExecuteScalarAsync(ct) as string;
    }

    /// <summary>Every call pays the configured latency and may fail, before it touches any state.</summary>
    private async Task EnterCallAsync(SimCall call, CancellationToken ct)
    {
        Calls.Record(call);
        var (extraLatency, injected) = Faults.Draw(call, NextDouble);
        var latency = options.LatencyMs + extraLatency;
        if (latency > 0)
        {
            // wall-clock on purpose: latency is the cloud's, and a test that steps a fake clock must not hang on it
            await Task.Delay(TimeSpan.FromMilliseconds(latency), TimeProvider.System, ct);
        }

        if (injected || (options.FailureRate > 0 && NextDouble() < options.FailureRate))
        {
            throw new ProviderException(name, ProviderErrorKind.Transient, $"simulated {call.ToString().ToLowerInvariant()} failure (503 ServiceUnavailable)");
        }
    }

    /// <summary>
    /// The simulated cloud keeps its state in Postgres; when that store fails (a failover, a restart) the caller must
    /// see what a cloud's 5xx looks like — a transient provider error — never a database exception of its own
    /// database, which it would take for its own failure (a delete answering 500 instead of 503 TERMINATE_PENDING).
    /// </summary>
    private async Task<T> OnStoreAsync<T>(Func<Task<T>> work, CancellationToken ct)
    {
        try
        {
            return await work();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException && !ct.IsCancellationRequested)
        {
            throw new ProviderException(name, ProviderErrorKind.Transient, $"the simulated cloud's store is unavailable (503): {ex.Message}", ex);
        }
    }

    private double NextDouble()
    {
        lock (randomGate)
        {
            return random.NextDouble();
        }
    }

    private static string NewInstanceId() => "i-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(9))[..17];

    private static InstanceState ParseState(string state) => state switch
    {
        "pending" => InstanceState.Pending,
        "running" => InstanceState.Running,
        "stopping" => InstanceState.Stopping,
        "stopped" => InstanceState.Stopped,
        "shutting-down" => InstanceState.ShuttingDown,
        "terminated" => InstanceState.Terminated,
        _ => throw new InvalidDataException($"unknown sim state '{state}'"),
    };
}
