using Molecule.Workspaces.Domain;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>Reads and writes of <c>operations</c> rows. Writes here are keyed by operation id only; writes to the
/// workspace row that an operation makes go through <see cref="ClaimStore"/> and carry the claim.</summary>
public sealed class OperationStore(NpgsqlDataSource db, TimeProvider time)
{
    public async Task<Operation?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {OperationRow.Columns} FROM operations WHERE id = $1");
        cmd.Parameters.Add(Uuid(id));
        return await OperationRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>Reads the operation and locks its row for the rest of the transaction, so no step's write lands between this read and the caller's.</summary>
    public async Task<Operation?> LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, CancellationToken ct)
    {
        await using var cmd = Command(conn, tx, $"SELECT {OperationRow.Columns} FROM operations WHERE id = $1 FOR UPDATE", Uuid(id));
        return await OperationRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>The operation that holds a workspace's claim right now, if any.</summary>
    public async Task<Operation?> GetClaimHolderAsync(Guid workspaceId, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {OperationRow.Columns}
              FROM operations
             WHERE id = (SELECT claim_id FROM workspaces WHERE id = $1)
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(Uuid(workspaceId));
        return await OperationRow.ReadSingleAsync(cmd, ct);
    }

    public async Task SaveProgressAsync(Guid id, string step, OperationProgress progress, CancellationToken ct)
    {
        const string sql = "UPDATE operations SET progress = $2, step = $3, updated_at = $4 WHERE id = $1";
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Json(progress), Text(step), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    public async Task SaveProgressAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid id, string step, OperationProgress progress, CancellationToken ct)
    {
        const string sql = "UPDATE operations SET progress = $2, step = $3, updated_at = $4 WHERE id = $1";
        await using var cmd = Command(conn, tx, sql, Uuid(id), Json(progress), Text(step), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Ends an operation that is still active; an operation already ended keeps its first ending.</summary>
    public async Task<bool> FinishAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, Guid id, string state, string step, string? error, CancellationToken ct)
    {
        const string sql = """
            UPDATE operations
               SET state = $2, step = $3, error = coalesce($4, error), finished_at = $5, updated_at = $5
             WHERE id = $1 AND state IN ('pending', 'running')
            """;
        await using var cmd = Command(conn, tx, sql, Uuid(id), Text(state), Text(step), Text(error), Time(time.GetUtcNow()));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// Counts a hand-off to the dispatcher (the outbox's attempt counter) and returns what the hand-off carries; null
    /// for an unknown operation. Each hand-off gets its own, higher <see cref="HandOff.DispatchCount"/>.
    /// </summary>
    public async Task<HandOff?> MarkDispatchedAsync(Guid id, CancellationToken ct)
    {
        const string sql = """
            UPDATE operations
               SET dispatch_count = dispatch_count + 1, updated_at = $2
             WHERE id = $1
            RETURNING workspace_id, kind, dispatch_count
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Time(time.GetUtcNow()));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new HandOff(id, reader.GetGuid(0), reader.GetString(1), reader.GetInt32(2)) : null;
    }

    /// <summary>
    /// Operations that look stuck: active and older than <paramref name="runningLongerThan"/>, or whose claim has
    /// expired. Oldest first.
    /// </summary>
    public async Task<IReadOnlyList<Operation>> ListStuckAsync(TimeSpan runningLongerThan, int limit, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {OperationRow.Columns}
              FROM operations o
             WHERE o.state IN ('pending', 'running')
               AND (o.created_at < $1
                    OR EXISTS (SELECT 1 FROM workspaces w WHERE w.claim_id = o.id AND w.claim_expires_at < $2)
                    OR NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.claim_id = o.id))
             ORDER BY o.created_at, o.id
             LIMIT $3
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Time(now - runningLongerThan), Time(now), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var ops = new List<Operation>();
        while (await reader.ReadAsync(ct))
        {
            ops.Add(OperationRow.Read(reader));
        }

        return ops;
    }
}

/// <summary>One hand-off of an operation to its walker: the <c>dispatch_count</c> it was counted as.</summary>
public sealed record HandOff(Guid OperationId, Guid WorkspaceId, string Kind, int DispatchCount);
