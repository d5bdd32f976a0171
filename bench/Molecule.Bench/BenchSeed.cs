using Npgsql;

namespace Molecule.Bench;

/// <summary>Bulk seeding for the benchmarks: N rows of one status, each naming a running box of one sim provider.</summary>
internal static class BenchSeed
{
    /// <summary>Two set-based statements, then fresh statistics (as autovacuum would have them on a live table).</summary>
    public static async Task RowsWithRunningBoxesAsync(NpgsqlDataSource db, string provider, string deployment, string status,
        int rows, DateTimeOffset at, CancellationToken ct)
    {
        const string boxes = """
            INSERT INTO sim_instances (provider, instance_id, client_token, instance_type, state, tags, launched_at, running_at, visible_at)
            SELECT $1, 'i-bench-' || g, 'bench-' || g, 'sim.medium', 'running', jsonb_build_object('molecule:deployment', $2::text), $3, $3, $3
              FROM generate_series(1, $4) AS g
            """;
        const string workspaceRows = """
            INSERT INTO workspaces (id, name, status, runtime, compute, instance_id, instance_provider, created_at, updated_at, removed_at)
            SELECT gen_random_uuid(), 'bench-' || g, $5, 'agent', jsonb_build_object('provider', $1::text), 'i-bench-' || g, $1, $3, $3,
                   CASE WHEN $5 = 'removed' THEN $3 END
              FROM generate_series(1, $4) AS g
            """;
        foreach (var sql in new[] { boxes, workspaceRows })
        {
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.Add(new NpgsqlParameter { Value = provider });
            cmd.Parameters.Add(new NpgsqlParameter { Value = deployment });
            cmd.Parameters.Add(new NpgsqlParameter { Value = at });
            cmd.Parameters.Add(new NpgsqlParameter { Value = rows });
            cmd.Parameters.Add(new NpgsqlParameter { Value = status });
            await cmd.ExecuteNonQueryAsync(ct);
        }

        await using var analyze = db.CreateCommand("ANALYZE workspaces; ANALYZE sim_instances");
        await analyze.ExecuteNonQueryAsync(ct);
    }
}
