using Molecule.Workspaces.Events;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// Leases of active operations between local replicas sharing one database (DESIGN §5.4): one replica walks an
/// operation at a time. Taking a lease also makes the taker's execution the operation's owner
/// (<c>execution_arn</c> = the taker's prefix + the operation id) in the same statement, so a replica that lost the
/// lease — dead, or only slow — is fenced: its next step finds another owner and aborts, changing nothing. A lease is
/// free when it was never taken or was released, and takeable by anyone once expired.
/// </summary>
public sealed class OperationLeaseStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Leases renewed or released per statement.</summary>
    public const int BatchSize = 1000;

    // Shared tail of both takes: the rows chosen (and locked) by "candidates" get the lease and the owner; an
    // operation that had begun under another execution gets an audit event naming who held it before.
    private const string TakeCandidates = """
        , taken AS (
            UPDATE operations o
               SET lease_holder = $1, lease_expires_at = $2, execution_arn = $3 || o.id::text
              FROM candidates c
             WHERE o.id = c.id
            RETURNING o.id, o.workspace_id, o.created_at, o.execution_arn, c.previous_execution, c.previous_holder
        ), adopted AS (
            INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
            SELECT workspace_id, id, $4,
                   jsonb_build_object('execution_arn', execution_arn, 'previous_execution_arn', previous_execution,
                                      'previous_lease_holder', previous_holder),
                   $5
              FROM taken
             WHERE previous_execution IS NOT NULL AND previous_execution <> execution_arn
        )
        SELECT id, created_at FROM taken ORDER BY created_at, id
        """;

    /// <summary>
    /// Takes the lease of one active operation if it is free, expired or already <paramref name="holder"/>'s (a
    /// replica that dispatches an operation takes it at once). False: another replica walks it, or it has ended.
    /// </summary>
    public async Task<bool> TryTakeAsync(Guid operationId, string holder, string executionIdPrefix, TimeSpan ttl, CancellationToken ct)
    {
        const string sql = $"""
            WITH candidates AS (
                SELECT id, execution_arn AS previous_execution, lease_holder AS previous_holder
                  FROM operations
                 WHERE id = $6
                   AND state IN ('pending', 'running')
                   AND (lease_holder = $1 OR lease_expires_at IS NULL OR lease_expires_at < $5)
                   FOR UPDATE
            ){TakeCandidates}
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(holder), Time(now + ttl), Text(executionIdPrefix), Text(EventTypes.OperationAdopted), Time(now), Uuid(operationId));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct);
    }

    /// <summary>
    /// One keyset page of adoptions: active operations whose lease is free or expired, after <paramref name="after"/>
    /// in (created_at, id) order, taken for <paramref name="holder"/>. Rows another replica is taking at this moment
    /// are skipped, not waited for, so two replicas scanning at once split the work and never take one row twice.
    /// </summary>
    public async Task<IReadOnlyList<LeaseKey>> AdoptPageAsync(string holder, string executionIdPrefix, TimeSpan ttl, LeaseKey? after, int limit,
        CancellationToken ct)
    {
        const string sql = $"""
            WITH candidates AS (
                SELECT id, execution_arn AS previous_execution, lease_holder AS previous_holder
                  FROM operations
                 WHERE state IN ('pending', 'running')
                   AND (lease_expires_at IS NULL OR lease_expires_at < $5)
                   AND ($6::timestamptz IS NULL OR (created_at, id) > ($6, $7))
                 ORDER BY created_at, id
                 LIMIT $8
                   FOR UPDATE SKIP LOCKED
            ){TakeCandidates}
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(holder), Time(now + ttl), Text(executionIdPrefix), Text(EventTypes.OperationAdopted), Time(now),
            Time(after?.CreatedAt), Uuid(after?.Id ?? Guid.Empty), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var taken = new List<LeaseKey>();
        while (await reader.ReadAsync(ct))
        {
            taken.Add(new LeaseKey(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
        }

        return taken;
    }

    /// <summary>
    /// Moves the expiry of <paramref name="holder"/>'s leases forward and answers which of <paramref name="operationIds"/>
    /// it still holds on active operations: one missing was taken over by another replica, or its operation ended.
    /// An expired lease that nobody took is still the holder's (nothing else has acted for the operation).
    /// </summary>
    public async Task<IReadOnlySet<Guid>> RenewAsync(string holder, IReadOnlyCollection<Guid> operationIds, TimeSpan ttl, CancellationToken ct)
    {
        const string sql = """
            UPDATE operations
               SET lease_expires_at = $3
             WHERE id = ANY($2) AND lease_holder = $1 AND state IN ('pending', 'running')
            RETURNING id
            """;
        var held = new HashSet<Guid>();
        foreach (var batch in operationIds.Chunk(BatchSize))
        {
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.AddAll(Text(holder), UuidArray(batch), Time(time.GetUtcNow() + ttl));
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                held.Add(reader.GetGuid(0));
            }
        }

        return held;
    }

    /// <summary>Frees <paramref name="holder"/>'s leases of <paramref name="operationIds"/> (a walk's end, a graceful stop); others' are untouched.</summary>
    public async Task ReleaseAsync(string holder, IReadOnlyCollection<Guid> operationIds, CancellationToken ct)
    {
        const string sql = """
            UPDATE operations
               SET lease_holder = NULL, lease_expires_at = NULL
             WHERE id = ANY($2) AND lease_holder = $1
            """;
        foreach (var batch in operationIds.Chunk(BatchSize))
        {
            await using var cmd = db.CreateCommand(sql);
            cmd.Parameters.AddAll(Text(holder), UuidArray(batch));
            await cmd.ExecuteNonQueryAsync(ct);
        }
    }
}

/// <summary>An adopted operation and its keyset position in the adoption scan.</summary>
public sealed record LeaseKey(Guid Id, DateTimeOffset CreatedAt);
