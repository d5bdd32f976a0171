using Molecule.Workspaces.Providers;
using Npgsql;
using NpgsqlTypes;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// The queue of boxes that must die but that no row points at any more (DESIGN §3). Enqueueing is idempotent
/// on <c>(provider, instance_id)</c>, so every path that might leak a box can enqueue it without coordination.
/// The orphan sweeper drains it: due rows in bounded pages, confirmed ones deleted, failed ones retried later.
/// </summary>
public sealed class PendingTerminationStore(TimeProvider time)
{
    public async Task EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string provider, string instanceId,
        Guid? workspaceId, string reason, string? lastError, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, last_error, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $5)
            ON CONFLICT (provider, instance_id) DO NOTHING
            """;
        await using var cmd = Command(conn, tx, sql,
            Text(provider), Text(instanceId), Uuid(workspaceId), Text(reason), Time(time.GetUtcNow()), Text(lastError));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>One bounded page of queued boxes whose next attempt is due, the longest-waiting first.</summary>
    public async Task<IReadOnlyList<PendingTermination>> ListDueAsync(NpgsqlConnection conn, int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id, provider, instance_id, workspace_id, reason, attempts
              FROM pending_terminations
             WHERE next_attempt_at <= $1
             ORDER BY next_attempt_at, id
             LIMIT $2
            """;
        await using var cmd = Command(conn, null, sql, Time(time.GetUtcNow()), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var due = new List<PendingTermination>();
        while (await reader.ReadAsync(ct))
        {
            var box = new BoxRef(reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetString(1), reader.GetString(2));
            due.Add(new PendingTermination(reader.GetInt64(0), box, reader.GetString(4), reader.GetInt32(5)));
        }

        return due;
    }

    /// <summary>Forgets queued boxes the cloud confirmed terminated. Returns rows deleted.</summary>
    public async Task<int> DeleteAsync(NpgsqlConnection conn, IReadOnlyCollection<long> ids, CancellationToken ct)
    {
        if (ids.Count == 0)
        {
            return 0;
        }

        await using var cmd = Command(conn, null, "DELETE FROM pending_terminations WHERE id = ANY($1)",
            new NpgsqlParameter { Value = ids.ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint });
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Records one failed attempt per row: the attempt counted, its error, and when to try next (the caller's backoff).</summary>
    public async Task RecordFailuresAsync(NpgsqlConnection conn, IReadOnlyCollection<PendingTerminationFailure> failures, CancellationToken ct)
    {
        if (failures.Count == 0)
        {
            return;
        }

        const string sql = """
            UPDATE pending_terminations p
               SET attempts = p.attempts + 1, last_error = f.last_error, next_attempt_at = f.next_attempt_at
              FROM unnest($1::bigint[], $2::text[], $3::timestamptz[]) AS f(id, last_error, next_attempt_at)
             WHERE p.id = f.id
            """;
        await using var cmd = Command(conn, null, sql,
            new NpgsqlParameter { Value = failures.Select(f => f.Id).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint },
            TextArray(failures.Select(f => f.Error)),
            new NpgsqlParameter
            {
                Value = failures.Select(f => f.NextAttemptAt.ToUniversalTime()).ToArray(),
                NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz,
            });
        await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>One row of <c>pending_terminations</c>: the box, why it was queued, and how many attempts have failed.</summary>
public sealed record PendingTermination(long Id, BoxRef Box, string Reason, int Attempts);

/// <summary>A failed attempt to record: the row, the error, and when the next attempt is due.</summary>
public sealed record PendingTerminationFailure(long Id, string Error, DateTimeOffset NextAttemptAt);
