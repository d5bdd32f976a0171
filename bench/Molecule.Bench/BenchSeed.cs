using Npgsql;

namespace Molecule.Bench;

/// <summary>Bulk seeding for the benchmarks, in set-based statements, then fresh statistics (as autovacuum would have them).</summary>
internal static class BenchSeed
{
    /// <summary>N rows of one status, each naming a running box of one sim provider (client token <c>{prefix}-{n}</c>; ids spread like real ones), tagged for the deployment.</summary>
    public static async Task RowsWithRunningBoxesAsync(NpgsqlDataSource db, string provider, string deployment, string status,
        int rows, DateTimeOffset at, CancellationToken ct, string prefix = "bench")
    {
        const string workspaceRows = """
            INSERT INTO workspaces (id, name, status, runtime, compute, instance_id, instance_provider, created_at, updated_at, removed_at)
            SELECT gen_random_uuid(), $6 || '-' || g, $5, 'agent', jsonb_build_object('provider', $1::text), 'i-' || substr(md5($6 || '-' || g), 1, 17), $1, $3, $3,
                   CASE WHEN $5 = 'removed' THEN $3 END
              FROM generate_series(1, $4) AS g
            """;
        await RunningBoxesAsync(db, provider, deployment, rows, at, prefix, ct);
        await ExecuteAsync(db, workspaceRows, ct, provider, deployment, at, rows, status, prefix);
        await ExecuteAsync(db, "ANALYZE workspaces", ct);
    }

    /// <summary>N running boxes (client token <c>{prefix}-{n}</c>) tagged for the deployment that no row names: row-gone leaks once past the grace.</summary>
    public static async Task RunningBoxesAsync(NpgsqlDataSource db, string provider, string deployment, int count, DateTimeOffset launchedAt,
        string prefix, CancellationToken ct)
    {
        const string boxes = """
            INSERT INTO sim_instances (provider, instance_id, client_token, instance_type, state, tags, launched_at, running_at, visible_at)
            SELECT $1, 'i-' || substr(md5($6 || '-' || g), 1, 17), $6 || '-' || g, 'sim.medium', 'running',
                   jsonb_build_object('molecule:deployment', $2::text), $3, $3, $3
              FROM generate_series(1, $4) AS g
            """;
        await ExecuteAsync(db, boxes, ct, provider, deployment, launchedAt, count, "", prefix);
        await ExecuteAsync(db, "ANALYZE sim_instances", ct);
    }

    /// <summary>Kills <paramref name="count"/> boxes of online rows chosen at random, as spot reclaims would; returns their workspaces.</summary>
    public static async Task<IReadOnlyList<Guid>> KillRandomOnlineBoxesAsync(NpgsqlDataSource db, string provider, int count, CancellationToken ct)
    {
        const string sql = """
            WITH victims AS (
                SELECT id, instance_id FROM workspaces
                 WHERE status = 'online' AND instance_provider = $1
                 ORDER BY random()
                 LIMIT $2
            ),
            killed AS (
                UPDATE sim_instances s SET state = 'terminated', terminated_at = now()
                  FROM victims v
                 WHERE s.provider = $1 AND s.instance_id = v.instance_id
            )
            SELECT id FROM victims
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(new NpgsqlParameter { Value = provider });
        cmd.Parameters.Add(new NpgsqlParameter { Value = count });
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource db, string sql, CancellationToken ct, params object[] parameters)
    {
        await using var cmd = db.CreateCommand(sql);
        foreach (var value in parameters)
        {
            cmd.Parameters.Add(new NpgsqlParameter { Value = value });
        }

        await cmd.ExecuteNonQueryAsync(ct);
    }
}
