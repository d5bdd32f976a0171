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
    /// <summary>How long a queued box that a live row names waits before the drain looks at it again: an hour.</summary>
    public static readonly TimeSpan LiveOwnerRecheckAfter = TimeSpan.FromHours(1);

    /// <summary>
    /// Queues a box unless a live row names it: a box some non-removed workspace points at is that workspace's box,
    /// and killing it would turn the row into a lie. Callers that take a box off a row therefore clear the row first,
    /// in the same transaction. True when the box is in the queue afterwards because of this call.
    /// </summary>
    public async Task<bool> EnqueueAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string provider, string instanceId,
        Guid? workspaceId, string reason, string? lastError, CancellationToken ct)
    {
        const string sql = """
            INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, last_error, created_at)
            SELECT $1, $2, $3, $4, $5, $6, $5
             WHERE NOT EXISTS (SELECT 1 FROM workspaces w
                                WHERE w.instance_provider = $1 AND w.instance_id = $2 AND w.status <> 'removed')
            ON CONFLICT (provider, instance_id) DO NOTHING
            """;
        await using var cmd = Command(conn, tx, sql,
            Text(provider), Text(instanceId), Uuid(workspaceId), Text(reason), Time(time.GetUtcNow()), Text(lastError));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>
    /// One bounded page of a provider's queued boxes whose next attempt is due, the longest-waiting first. A due box that a live
    /// row names is not returned: the statement itself re-checks ownership, so a box queued by mistake (or named
    /// again since) is never killed under its row; it is put back by <see cref="LiveOwnerRecheckAfter"/> with the
    /// reason in <c>last_error</c>, and counted in <see cref="DuePage.Postponed"/>.
    /// </summary>
    public async Task<DuePage> ListDueAsync(NpgsqlConnection conn, string provider, int limit, CancellationToken ct)
    {
        const string sql = """
            WITH due AS (
                SELECT p.id, p.provider, p.instance_id, p.workspace_id, p.reason, p.attempts,
                       EXISTS (SELECT 1 FROM workspaces w
                                WHERE w.instance_provider = p.provider AND w.instance_id = p.instance_id
                                  AND w.status <> 'removed') AS named
                  FROM pending_terminations p
                 WHERE p.provider = $4 AND p.next_attempt_at <= $1
                 ORDER BY p.next_attempt_at, p.id
                 LIMIT $2
            ),
            postponed AS (
                UPDATE pending_terminations p
                   SET next_attempt_at = $3, last_error = 'a live workspace names this box; not terminated'
                  FROM due d
                 WHERE p.id = d.id AND d.named
            )
            SELECT id, provider, instance_id, workspace_id, reason, attempts, named FROM due
            """;
        var now = time.GetUtcNow();
        await using var cmd = Command(conn, null, sql, Time(now), P(limit), Time(now + LiveOwnerRecheckAfter), Text(provider));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var due = new List<PendingTermination>();
        var postponed = 0;
        while (await reader.ReadAsync(ct))
        {
            if (reader.GetBoolean(6))
            {
                postponed++;
                continue;
            }

            var box = new BoxRef(reader.IsDBNull(3) ? null : reader.GetGuid(3), reader.GetString(1), reader.GetString(2));
            due.Add(new PendingTermination(reader.GetInt64(0), box, reader.GetString(4), reader.GetInt32(5)));
        }

        return new DuePage(due, postponed);
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

/// <summary>A page of due queued boxes, and how many due ones were put back because a live row names them.</summary>
public sealed record DuePage(IReadOnlyList<PendingTermination> Due, int Postponed);

/// <summary>A failed attempt to record: the row, the error, and when the next attempt is due.</summary>
public sealed record PendingTerminationFailure(long Id, string Error, DateTimeOffset NextAttemptAt);
