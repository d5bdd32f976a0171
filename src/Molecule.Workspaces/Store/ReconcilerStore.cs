using Molecule.Workspaces.Providers;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>The instance reconciler's statements (DESIGN §7): every list bounded, every write a compare-and-set.</summary>
public sealed class ReconcilerStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>Claims past their expiry, the oldest first.</summary>
    public Task<IReadOnlyList<(Guid WorkspaceId, Guid OperationId)>> ListExpiredClaimsAsync(int limit, CancellationToken ct) => PairsAsync("""
        SELECT id, claim_id FROM workspaces
         WHERE claim_id IS NOT NULL AND claim_expires_at < $1
         ORDER BY claim_expires_at
         LIMIT $2
        """, time.GetUtcNow(), limit, ct);

    /// <summary>An expired claim whose operation is gone or already ended: the row goes back to the status before the claim.</summary>
    public async Task ReleaseOrphanClaimAsync(Guid workspaceId, Guid claimId, CancellationToken ct)
    {
        const string sql = """
            WITH released AS (
                UPDATE workspaces
                   SET status = CASE WHEN coalesce(prior_status, 'offline') = 'online' AND instance_id IS NULL THEN 'offline'
                                     ELSE coalesce(prior_status, 'offline') END,
                       claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL,
                       prior_status = NULL, version = version + 1, updated_at = $3
                 WHERE id = $1 AND claim_id = $2 AND claim_expires_at < $3
                RETURNING id, status
            )
            INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
            SELECT id, $2, 'workspace.operation.expired', jsonb_build_object('status', status, 'operation_missing', true), $3
              FROM released
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(workspaceId), Uuid(claimId), Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Operations still <c>pending</c> whose last hand-off is older than <paramref name="handedOffBefore"/>.</summary>
    public Task<IReadOnlyList<(Guid WorkspaceId, Guid OperationId)>> ListStalePendingAsync(DateTimeOffset handedOffBefore, int limit, CancellationToken ct) =>
        PairsAsync("""
            SELECT workspace_id, id FROM operations
             WHERE state = 'pending' AND updated_at < $1
             ORDER BY created_at, id
             LIMIT $2
            """, handedOffBefore, limit, ct);

    /// <summary>Active operations whose workspace no longer holds their claim and that nothing has written since <paramref name="quietSince"/>.</summary>
    public Task<IReadOnlyList<(Guid WorkspaceId, Guid OperationId)>> ListAbandonedAsync(DateTimeOffset quietSince, int limit, CancellationToken ct) =>
        PairsAsync("""
            SELECT o.workspace_id, o.id FROM operations o
             WHERE o.state IN ('pending', 'running') AND o.updated_at < $1
               AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = o.workspace_id AND w.claim_id = o.id)
             ORDER BY o.updated_at, o.id
             LIMIT $2
            """, quietSince, limit, ct);

    /// <summary>
    /// Ends an abandoned operation <c>aborted</c> and queues the box it started, in one statement that re-checks
    /// everything the list saw: still active, still without its claim, still quiet (a walk that wrote meanwhile is
    /// alive and aborts by itself). The box is queued only if no live row names it. Null: nothing was done.
    /// </summary>
    public async Task<AbandonedOperation?> AbortAbandonedAsync(Guid operationId, DateTimeOffset quietSince, string reason, CancellationToken ct)
    {
        const string sql = """
            WITH aborted AS (
                UPDATE operations o
                   SET state = 'aborted', error = $3, finished_at = $4, updated_at = $4
                 WHERE o.id = $1 AND o.state IN ('pending', 'running') AND o.updated_at < $2
                   AND NOT EXISTS (SELECT 1 FROM workspaces w WHERE w.id = o.workspace_id AND w.claim_id = o.id)
                RETURNING o.id, o.workspace_id, o.kind, o.step,
                          o.progress->>'newInstanceId' AS box, o.progress->>'newInstanceProvider' AS provider
            ),
            queued AS (
                INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, last_error, created_at)
                SELECT a.provider, a.box, a.workspace_id, 'operation_abandoned', $4, $3, $4
                  FROM aborted a
                 WHERE a.box IS NOT NULL AND a.provider IS NOT NULL
                   AND NOT EXISTS (SELECT 1 FROM workspaces w
                                    WHERE w.instance_provider = a.provider AND w.instance_id = a.box AND w.status <> 'removed')
                ON CONFLICT (provider, instance_id) DO NOTHING
                RETURNING instance_id
            ),
            logged AS (
                INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
                SELECT a.workspace_id, a.id, 'workspace.operation.aborted',
                       jsonb_build_object('kind', a.kind, 'step', a.step, 'reason', $3::text,
                                          'queued_instance_id', (SELECT instance_id FROM queued)), $4
                  FROM aborted a
            )
            SELECT workspace_id, kind, (SELECT instance_id FROM queued) FROM aborted
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(operationId), Time(quietSince), Text(reason), Time(time.GetUtcNow()));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new AbandonedOperation(operationId, reader.GetGuid(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2))
            : null;
    }

    /// <summary>
    /// One keyset page of a provider's unclaimed online rows with a box, unchanged for the grace, in id order: after
    /// <paramref name="after"/> (null: from the first) and up to <paramref name="upTo"/> inclusive (null: to the last).
    /// </summary>
    public async Task<IReadOnlyList<OnlineRow>> ListOnlinePageAsync(string provider, Guid? after, Guid? upTo, DateTimeOffset unchangedSince,
        int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id, instance_id
              FROM workspaces
             WHERE instance_provider = $1 AND status = 'online' AND instance_id IS NOT NULL
               AND runtime <> 'external' AND claim_id IS NULL
               -- a row that changed within the grace may still be settling (describe lag of a brand-new box)
               AND updated_at < $2
               AND ($3::uuid IS NULL OR id > $3)
               AND ($4::uuid IS NULL OR id <= $4)
             ORDER BY id
             LIMIT $5
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(provider), Time(unchangedSince), Uuid(after), Uuid(upTo), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<OnlineRow>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new OnlineRow(reader.GetGuid(0), provider, reader.GetString(1)));
        }

        return rows;
    }

    /// <summary>
    /// online → offline for each row that is still that online, unclaimed row over that box (a heal, a delete or a new
    /// claim since the describe wins), with one <c>workspace.instance.lost</c> each. Returns the rows flipped.
    /// </summary>
    public async Task<IReadOnlyList<Guid>> MarkLostAsync(IReadOnlyList<(OnlineRow Row, InstanceState State)> dead, CancellationToken ct)
    {
        const string sql = """
            WITH lost AS (
                UPDATE workspaces w
                   SET status = 'offline', version = w.version + 1, updated_at = $5
                  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) AS d(id, instance_id, provider, state)
                 WHERE w.id = d.id AND w.status = 'online' AND w.instance_id = d.instance_id
                   AND w.instance_provider = d.provider AND w.claim_id IS NULL
                RETURNING w.id, d.instance_id, d.provider, d.state
            ),
            logged AS (
                INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
                SELECT id, 'workspace.instance.lost', jsonb_build_object('instance_id', instance_id, 'provider', provider, 'state', state), $5
                  FROM lost
            )
            SELECT id FROM lost
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            UuidArray(dead.Select(d => d.Row.Id)),
            TextArray(dead.Select(d => d.Row.InstanceId)),
            TextArray(dead.Select(d => d.Row.Provider)),
            TextArray(dead.Select(d => d.State.ToWire())),
            Time(time.GetUtcNow()));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var flipped = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            flipped.Add(reader.GetGuid(0));
        }

        return flipped;
    }

    /// <summary>Offline, unclaimed, non-external rows to heal, the longest-waiting first, except those on a braked provider.</summary>
    public async Task<IReadOnlyList<Guid>> ListHealCandidatesAsync(IReadOnlyCollection<string> brakedProviders, int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id FROM workspaces
             WHERE status = 'offline' AND claim_id IS NULL AND runtime <> 'external'
               -- a provider whose brake tripped this tick heals nothing until a tick finds it healthy again
               AND NOT (coalesce(instance_provider, compute->>'provider', '') = ANY($1))
             ORDER BY updated_at, id
             LIMIT $2
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(TextArray(brakedProviders), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var ids = new List<Guid>();
        while (await reader.ReadAsync(ct))
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }

    /// <summary>Counts one heal in the workspace's rolling window (a new window starts with this heal).</summary>
    public async Task SpendHealBudgetAsync(Guid id, TimeSpan window, CancellationToken ct)
    {
        const string sql = """
            UPDATE workspaces
               SET heal_count = CASE WHEN heal_window_started_at IS NULL OR heal_window_started_at <= $2 THEN 1 ELSE heal_count + 1 END,
                   heal_window_started_at = CASE WHEN heal_window_started_at IS NULL OR heal_window_started_at <= $2 THEN $3 ELSE heal_window_started_at END
             WHERE id = $1
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Time(now - window), Time(now));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// With <paramref name="maxHeals"/> heals already spent in the rolling window, the offline row goes <c>failed</c>, its
    /// dead box (which may be only stopped) is queued, and <c>workspace.heal.budget_exhausted</c> says why. False (and
    /// nothing written) while budget remains.
    /// </summary>
    public async Task<bool> MarkBudgetExhaustedAsync(Guid id, int maxHeals, TimeSpan window, CancellationToken ct)
    {
        const string sql = """
            WITH before AS (
                SELECT id, instance_id, instance_provider FROM workspaces WHERE id = $1 FOR UPDATE
            ),
            exhausted AS (
                UPDATE workspaces w
                   SET status = 'failed', instance_id = NULL, instance_provider = NULL, url = NULL,
                       version = w.version + 1, updated_at = $3
                  FROM before b
                 WHERE w.id = b.id AND w.status = 'offline' AND w.claim_id IS NULL
                   AND w.heal_window_started_at > $2 AND w.heal_count >= $4
                RETURNING w.id, w.heal_count, w.heal_window_started_at, b.instance_id, b.instance_provider
            ),
            -- a dead box may only be stopped, not gone: a failed row must not keep paying for it
            queued AS (
                INSERT INTO pending_terminations (provider, instance_id, workspace_id, reason, next_attempt_at, created_at)
                SELECT instance_provider, instance_id, id, 'heal_budget_exhausted', $3, $3 FROM exhausted WHERE instance_id IS NOT NULL
                ON CONFLICT (provider, instance_id) DO NOTHING
            )
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT id, 'workspace.heal.budget_exhausted',
                   jsonb_build_object('heals', heal_count, 'window_started_at', heal_window_started_at, 'window_seconds', $5::int,
                                      'queued_instance_id', instance_id), $3
              FROM exhausted
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), Time(now - window), Time(now), P(maxHeals), P((int)window.TotalSeconds));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    private async Task<IReadOnlyList<(Guid, Guid)>> PairsAsync(string sql, DateTimeOffset at, int limit, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Time(at), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var pairs = new List<(Guid, Guid)>();
        while (await reader.ReadAsync(ct))
        {
            pairs.Add((reader.GetGuid(0), reader.GetGuid(1)));
        }

        return pairs;
    }
}

/// <summary>An online row the reconciler checks: the workspace and the box its provider should be running.</summary>
public sealed record OnlineRow(Guid Id, string Provider, string InstanceId)
{
    public (Guid, string) Key => (Id, InstanceId);
}

/// <summary>An operation the reconciler ended because nothing walked it any more, and the box it queued, if any.</summary>
public sealed record AbandonedOperation(Guid OperationId, Guid WorkspaceId, string Kind, string? QueuedInstanceId);
