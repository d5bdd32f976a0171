using Molecule.Workspaces.Providers;
using Npgsql;
using NpgsqlTypes;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>The orphan sweeper's statements (DESIGN §7), every list bounded.</summary>
public sealed class OrphanSweepStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>
    /// One keyset page of a provider's removed rows that still name a box, in id order after <paramref name="after"/>,
    /// each with whether it is <c>runtime = 'external'</c>: never touched, even if one names a box by hand-edit.
    /// </summary>
    public async Task<IReadOnlyList<RemovedRowBox>> ListRemovedWithBoxAsync(string provider, Guid? after, int limit, CancellationToken ct)
    {
        const string sql = """
            SELECT id, instance_id, runtime = 'external'
              FROM workspaces
             WHERE instance_provider = $1 AND status = 'removed' AND instance_id IS NOT NULL
               AND ($2::uuid IS NULL OR id > $2)
             ORDER BY id
             LIMIT $3
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(provider), Uuid(after), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<RemovedRowBox>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new RemovedRowBox(new BoxRef(reader.GetGuid(0), provider, reader.GetString(1)), reader.GetBoolean(2)));
        }

        return rows;
    }

    /// <summary>
    /// The listed boxes (each with the operation its <c>molecule:operation-id</c> tag names, if any) that nothing in the
    /// database owns. A box is owned when any workspace row names it (a live row uses it; a removed row's box is the
    /// removed-rows pass's work; an external row is never touched), when it is queued (the drain owns its backoff), or
    /// when an active operation recorded it as its new box or its tag names one (the crash window between the cloud
    /// call and the progress write) — as long as that operation still holds its claim, or lost it less than
    /// <paramref name="claimLostGrace"/> ago. Past that, nothing walks the operation any more and its box would
    /// otherwise be owned forever.
    /// </summary>
    public async Task<IReadOnlySet<string>> UnownedAsync(string provider, IReadOnlyList<(string InstanceId, Guid? TaggedOperationId)> boxes,
        DateTimeOffset claimLostGrace, CancellationToken ct)
    {
        const string sql = """
            SELECT c.instance_id
              FROM unnest($2::text[], $3::uuid[]) AS c(instance_id, tagged_operation_id)
             WHERE NOT EXISTS (SELECT 1 FROM workspaces w
                                WHERE w.instance_provider = $1 AND w.instance_id = c.instance_id)
               AND NOT EXISTS (SELECT 1 FROM pending_terminations p
                                WHERE p.provider = $1 AND p.instance_id = c.instance_id)
               AND NOT EXISTS (SELECT 1 FROM operations o
                                WHERE o.state IN ('pending', 'running')
                                  AND o.progress->>'newInstanceId' = c.instance_id
                                  -- a progress without its provider still owns the box: never reap on a doubt
                                  AND coalesce(o.progress->>'newInstanceProvider', $1) = $1
                                  AND (o.updated_at > $4
                                       OR EXISTS (SELECT 1 FROM workspaces w WHERE w.id = o.workspace_id AND w.claim_id = o.id)))
               AND NOT EXISTS (SELECT 1 FROM operations o
                                WHERE o.id = c.tagged_operation_id AND o.state IN ('pending', 'running')
                                  AND (o.updated_at > $4
                                       OR EXISTS (SELECT 1 FROM workspaces w WHERE w.id = o.workspace_id AND w.claim_id = o.id)))
            """;
        var unowned = new HashSet<string>(StringComparer.Ordinal);
        if (boxes.Count == 0)
        {
            return unowned;
        }

        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            Text(provider),
            TextArray(boxes.Select(b => b.InstanceId)),
            new NpgsqlParameter { Value = boxes.Select(b => b.TaggedOperationId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
            Time(claimLostGrace));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            unowned.Add(reader.GetString(0));
        }

        return unowned;
    }

    /// <summary>One <c>workspace.instance.stopped</c> per terminated box, in one statement, so a removed workspace's log shows the repair.</summary>
    public async Task AppendTerminatedEventsAsync(IReadOnlyList<BoxRef> boxes, string reason, CancellationToken ct)
    {
        if (boxes.Count == 0)
        {
            return;
        }

        const string sql = """
            INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
            SELECT t.workspace_id, 'workspace.instance.stopped',
                   jsonb_build_object('instance_id', t.instance_id, 'provider', t.provider,
                                      'reason', $4::text, 'recovered_by', 'orphan_sweeper'),
                   $5
              FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(workspace_id, instance_id, provider)
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            new NpgsqlParameter { Value = boxes.Select(b => b.WorkspaceId).ToArray(), NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Uuid },
            TextArray(boxes.Select(b => b.InstanceId)),
            TextArray(boxes.Select(b => b.Provider)),
            Text(reason),
            Time(time.GetUtcNow()));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>Deletes up to <paramref name="limit"/> idempotency records created before <paramref name="before"/>, the oldest first.</summary>
    public async Task<int> PurgeIdempotencyKeysAsync(DateTimeOffset before, int limit, CancellationToken ct)
    {
        const string sql = """
            DELETE FROM idempotency_keys
             WHERE key IN (SELECT key FROM idempotency_keys WHERE created_at < $1 ORDER BY created_at LIMIT $2)
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Time(before), P(limit));
        return await cmd.ExecuteNonQueryAsync(ct);
    }
}

/// <summary>A removed row's box, and whether the row is <c>runtime = 'external'</c> (then the box is never touched).</summary>
public sealed record RemovedRowBox(BoxRef Box, bool External);
