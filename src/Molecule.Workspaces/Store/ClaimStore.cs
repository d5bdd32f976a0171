using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>
/// The claim of DESIGN §4: one owner per workspace, as a token (<c>claim_id</c> = the operation id), never a
/// status value. Taking the claim is one conditional statement; every later write of the operation repeats
/// <c>claim_id = $op</c>, so a request that lost the race, or an operation whose claim was taken away by a
/// delete or an expiry, can change nothing.
/// </summary>
public sealed class ClaimStore(NpgsqlDataSource db, TimeProvider time)
{
    /// <summary>
    /// Claims the row for a new operation and inserts the <c>operations</c> row in the same statement.
    /// Returns the claimed row, or null when the claim was not won (the caller diagnoses why, read-only).
    /// </summary>
    public async Task<Workspace?> TryClaimAsync(ClaimRequest request, CancellationToken ct)
    {
        const string sql = $"""
            WITH RECURSIVE ancestors AS ({AncestorsCte.Body}),
            claimed AS (
                UPDATE workspaces w
                   SET claim_id = $2, claim_kind = $3, claim_expires_at = $4,
                       prior_status = w.status, status = 'provisioning',
                       -- the rest of a PATCH that starts a switch: applied with the claim or not at all
                       name = coalesce($13, w.name), x = coalesce($14, w.x), y = coalesce($15, w.y),
                       collapsed = coalesce($16, w.collapsed),
                       version = w.version + 1, updated_at = $5
                 WHERE w.id = $1
                   AND w.claim_id IS NULL
                   AND w.status = ANY($6)
                   AND w.runtime <> 'external'
                   -- the provider the request saw: a switch decided on a stale read must not run
                   AND (NOT $7 OR w.compute->>'provider' IS NOT DISTINCT FROM $8)
                   AND (NOT $9 OR NOT EXISTS (SELECT 1 FROM workspaces a JOIN ancestors USING (id) WHERE a.status = 'paused'))
                   -- If-Match of a PATCH that switches: the row is still the version the client saw
                   AND ($12::int IS NULL OR w.version = $12)
                RETURNING {WorkspaceRow.Columns}
            ),
            claimed_event AS (
                INSERT INTO structure_events (workspace_id, operation_id, event_type, payload, created_at)
                SELECT c.id, $2, 'workspace.operation.claimed',
                       jsonb_build_object('kind', $3::text, 'prior_status', c.prior_status, 'requested_by', $11::text), $5
                  FROM claimed c
            ),
            patched_event AS (
                INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
                SELECT c.id, '{EventTypes.WorkspaceUpdated}',
                       jsonb_strip_nulls(jsonb_build_object('name', $13::text, 'x', $14::float8, 'y', $15::float8,
                                                            'collapsed', $16::bool, 'version', c.version)), $5
                  FROM claimed c
                 WHERE $13::text IS NOT NULL OR $14::float8 IS NOT NULL OR $15::float8 IS NOT NULL OR $16::bool IS NOT NULL
            ),
            op AS (
                INSERT INTO operations (id, workspace_id, kind, state, input, created_at, updated_at)
                SELECT $2, c.id, $3, 'pending',
                       jsonb_build_object(
                           'fromProvider', c.compute::jsonb->>'provider',
                           'toProvider', coalesce($10, c.compute::jsonb->>'provider'),
                           'oldInstanceId', c.instance_id,
                           'oldInstanceProvider', c.instance_provider,
                           'requestedBy', $11::text),
                       $5, $5
                  FROM claimed c
            )
            SELECT {WorkspaceRow.Columns} FROM claimed
            """;
        var now = time.GetUtcNow();
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            Uuid(request.WorkspaceId),
            Uuid(request.OperationId),
            Text(request.Kind),
            Time(now + request.Ttl),
            Time(now),
            TextArray(OperationKind.ClaimableStatuses(request.Kind)),
            P(request.CheckExpectedProvider),
            Text(request.ExpectedProvider),
            P(OperationKind.RequiresUnpausedAncestors(request.Kind)),
            Text(request.TargetProvider),
            Text(request.RequestedBy),
            Int(request.ExpectedVersion),
            Text(request.Patch?.Name),
            Float8(request.Patch?.X),
            Float8(request.Patch?.Y),
            Bool(request.Patch?.Collapsed));
        return await WorkspaceRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>Reads the row only if this operation still holds its claim.</summary>
    public async Task<Workspace?> GetIfHeldAsync(Guid workspaceId, Guid operationId, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {WorkspaceRow.Columns} FROM workspaces WHERE id = $1 AND claim_id = $2");
        cmd.Parameters.AddAll(Uuid(workspaceId), Uuid(operationId));
        return await WorkspaceRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>Writes the switch's target provider. False: the claim is gone.</summary>
    public async Task<bool> WriteProviderAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid operationId, string provider, CancellationToken ct)
    {
        const string sql = """
            UPDATE workspaces
               SET compute = jsonb_set(compute, '{provider}', to_jsonb($3::text)), version = version + 1, updated_at = $4
             WHERE id = $1 AND claim_id = $2
            """;
        await using var cmd = Command(conn, tx, sql, Uuid(workspaceId), Uuid(operationId), Text(provider), Time(time.GetUtcNow()));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Points the row at the new box. False: the claim is gone.</summary>
    public async Task<bool> WriteInstanceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid operationId,
        string instanceId, string provider, string? url, CancellationToken ct)
    {
        const string sql = """
            UPDATE workspaces
               SET instance_id = $3, instance_provider = $4, url = $5, version = version + 1, updated_at = $6
             WHERE id = $1 AND claim_id = $2
            """;
        await using var cmd = Command(conn, tx, sql,
            Uuid(workspaceId), Uuid(operationId), Text(instanceId), Text(provider), Text(url), Time(time.GetUtcNow()));
        return await cmd.ExecuteNonQueryAsync(ct) == 1;
    }

    /// <summary>Sets the final status and releases the claim, only where it is still this operation's.</summary>
    public async Task<Workspace?> CommitAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid operationId, string status, CancellationToken ct)
    {
        const string sql = $"""
            UPDATE workspaces
               SET status = $3, claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL, prior_status = NULL,
                   version = version + 1, updated_at = $4
             WHERE id = $1 AND claim_id = $2
            RETURNING {WorkspaceRow.Columns}
            """;
        await using var cmd = Command(conn, tx, sql, Uuid(workspaceId), Uuid(operationId), Text(status), Time(time.GetUtcNow()));
        return await WorkspaceRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>
    /// Takes the box off the row — after stop-old terminated it, or for a stop that gave up (stop-exhausted) — only
    /// where the claim is still this operation's, and returns the box the row named at that moment (locked, so no
    /// concurrent write slips between the read and the clear). Null: the claim is gone, and the box is not this
    /// operation's to hand anywhere.
    /// </summary>
    public async Task<BoxOnRow?> TakeInstanceAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid operationId, CancellationToken ct)
    {
        const string sql = """
            WITH held AS (
                SELECT id, instance_id, instance_provider FROM workspaces WHERE id = $1 AND claim_id = $2 FOR UPDATE
            )
            UPDATE workspaces w
               SET instance_id = NULL, instance_provider = NULL, url = NULL, version = w.version + 1, updated_at = $3
              FROM held h
             WHERE w.id = h.id
            RETURNING h.instance_id, h.instance_provider
            """;
        await using var cmd = Command(conn, tx, sql, Uuid(workspaceId), Uuid(operationId), Time(time.GetUtcNow()));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new BoxOnRow(reader.IsDBNull(0) ? null : reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1))
            : null;
    }

    /// <summary>Locks the workspace row for the rest of the transaction (a compensation takes it before the operation row, as the steps do).</summary>
    public async Task LockAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, CancellationToken ct)
    {
        await using var cmd = Command(conn, tx, "SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE", Uuid(workspaceId));
        await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>
    /// The row half of a compensation: restore the provider if it was written, drop the new box from the row if
    /// the row points at it, set the status (null: back to the status before the claim), release the claim — all only
    /// where the claim is still this operation's. A row left without a box is never <c>online</c>: it goes
    /// <c>offline</c> for the reconciler to heal.
    /// </summary>
    public async Task<Workspace?> CompensateAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid workspaceId, Guid operationId,
        string? restoreProvider, string? newInstanceId, string? status, CancellationToken ct)
    {
        const string sql = $$"""
            UPDATE workspaces
               SET compute = CASE WHEN $3::text IS NULL THEN compute ELSE jsonb_set(compute, '{provider}', to_jsonb($3::text)) END,
                   url = CASE WHEN instance_id = $4 THEN NULL ELSE url END,
                   instance_provider = CASE WHEN instance_id = $4 THEN NULL ELSE instance_provider END,
                   instance_id = CASE WHEN instance_id = $4 THEN NULL ELSE instance_id END,
                   -- instance_id here is the value before this update: the status must match the box the row keeps
                   status = CASE WHEN coalesce($5::text, prior_status, 'offline') = 'online'
                                  AND (instance_id IS NULL OR instance_id = $4) THEN 'offline'
                                 ELSE coalesce($5::text, prior_status, 'offline') END,
                   claim_id = NULL, claim_kind = NULL, claim_expires_at = NULL,
                   prior_status = NULL, version = version + 1, updated_at = $6
             WHERE id = $1 AND claim_id = $2
            RETURNING {{WorkspaceRow.Columns}}
            """;
        await using var cmd = Command(conn, tx, sql,
            Uuid(workspaceId), Uuid(operationId), Text(restoreProvider), Text(newInstanceId), Text(status), Time(time.GetUtcNow()));
        return await WorkspaceRow.ReadSingleAsync(cmd, ct);
    }
}

/// <summary>The box a row named when it was taken off it (both null: the row named none).</summary>
public sealed record BoxOnRow(string? InstanceId, string? Provider);

/// <summary>What a request asks to claim.</summary>
/// <param name="CheckExpectedProvider">Whether the claim must also match <paramref name="ExpectedProvider"/> (switch-provider).</param>
/// <param name="TargetProvider">The switch's target; null for other kinds.</param>
/// <param name="ExpectedVersion">When set, the claim also requires <c>version</c> to match (HTTP <c>If-Match</c>).</param>
public sealed record ClaimRequest(
    Guid WorkspaceId,
    Guid OperationId,
    string Kind,
    TimeSpan Ttl,
    string RequestedBy,
    bool CheckExpectedProvider = false,
    string? ExpectedProvider = null,
    string? TargetProvider = null,
    int? ExpectedVersion = null,
    WorkspacePatch? Patch = null);
