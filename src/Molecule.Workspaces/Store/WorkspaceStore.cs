using Molecule.Workspaces.Domain;
using Molecule.Workspaces.Events;
using Molecule.Workspaces.Providers;
using Npgsql;
using static Molecule.Workspaces.Store.Sql;

namespace Molecule.Workspaces.Store;

/// <summary>Reads of workspace rows and the plain field edits that need no claim (name, canvas position).</summary>
public sealed class WorkspaceStore(NpgsqlDataSource db, TimeProvider time)
{
    public async Task<Workspace?> GetAsync(Guid id, CancellationToken ct)
    {
        await using var cmd = db.CreateCommand($"SELECT {WorkspaceRow.Columns} FROM workspaces WHERE id = $1");
        cmd.Parameters.Add(Uuid(id));
        return await WorkspaceRow.ReadSingleAsync(cmd, ct);
    }

    /// <summary>
    /// The workspace with its latest operation, in one statement (one round trip): the read behind
    /// <c>GET /workspaces/{id}</c>, which the canvas polls.
    /// </summary>
    public async Task<WorkspaceWithOperation?> GetWithLatestOperationAsync(Guid id, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {WorkspaceRow.Columns}, {LatestOperation.Columns}
              FROM workspaces w
              LEFT JOIN LATERAL ({LatestOperation.Subquery}) o ON true
             WHERE w.id = $1
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(Uuid(id));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new WorkspaceWithOperation(WorkspaceRow.Read(reader), LatestOperation.Read(reader)) : null;
    }

    /// <summary>
    /// One keyset page of live workspaces, oldest first, each with its latest operation, in one statement;
    /// <paramref name="after"/> is the last row of the previous page. The lateral read runs once per row of the page only
    /// (the limit applies before it), each an index lookup on <c>operations (workspace_id, created_at DESC)</c>.
    /// </summary>
    public async Task<IReadOnlyList<WorkspaceWithOperation>> ListAsync(WorkspaceListFilter filter, int limit, WorkspaceCursor? after, CancellationToken ct)
    {
        const string sql = $"""
            SELECT {WorkspaceRow.Columns}, {LatestOperation.Columns}
              FROM workspaces w
              LEFT JOIN LATERAL ({LatestOperation.Subquery}) o ON true
             WHERE w.status <> 'removed'
               AND ($1::text IS NULL OR w.status = $1)
               AND ($2::uuid IS NULL OR w.parent_id = $2)
               AND ($3::timestamptz IS NULL OR (w.created_at, w.id) > ($3, $4))
             ORDER BY w.created_at, w.id
             LIMIT $5
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Text(filter.Status), Uuid(filter.ParentId), Time(after?.CreatedAt), Uuid(after?.Id), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var rows = new List<WorkspaceWithOperation>();
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new WorkspaceWithOperation(WorkspaceRow.Read(reader), LatestOperation.Read(reader)));
        }

        return rows;
    }

    /// <summary>
    /// Edits name / canvas fields of a live row. With <paramref name="expectedVersion"/> the write is a compare-and-set
    /// on <c>version</c> (HTTP <c>If-Match</c>), so two editors cannot silently overwrite each other.
    /// </summary>
    public async Task<PatchResult> PatchAsync(Guid id, WorkspacePatch patch, int? expectedVersion, CancellationToken ct)
    {
        if (patch.IsEmpty)
        {
            // nothing to write: answer with the row as it is, still honouring If-Match
            var unchanged = await GetAsync(id, ct);
            return unchanged switch
            {
                null => new PatchResult(PatchOutcome.NotFound, null),
                { Status: WorkspaceStatus.Removed } => new PatchResult(PatchOutcome.Removed, unchanged),
                _ when expectedVersion is { } v && v != unchanged.Version => new PatchResult(PatchOutcome.VersionMismatch, unchanged),
                _ => new PatchResult(PatchOutcome.Updated, unchanged),
            };
        }

        const string sql = $"""
            WITH updated AS (
            UPDATE workspaces
               SET name = coalesce($2, name),
                   x = coalesce($3, x),
                   y = coalesce($4, y),
                   collapsed = coalesce($5, collapsed),
                   version = version + 1,
                   updated_at = $6
             WHERE id = $1
               AND status <> 'removed'
               AND ($7::int IS NULL OR version = $7)
            RETURNING {WorkspaceRow.Columns}
            ),
            updated_event AS (
                INSERT INTO structure_events (workspace_id, event_type, payload, created_at)
                SELECT u.id, '{EventTypes.WorkspaceUpdated}',
                       jsonb_strip_nulls(jsonb_build_object('name', $2::text, 'x', $3::float8, 'y', $4::float8, 'collapsed', $5::bool, 'version', u.version)), $6
                  FROM updated u
            )
            SELECT {WorkspaceRow.Columns} FROM updated
            """;
        await using var conn = await db.OpenConnectionAsync(ct);
        try
        {
            await using var cmd = Command(conn, null, sql,
                Uuid(id), Text(patch.Name), Float8(patch.X), Float8(patch.Y), Bool(patch.Collapsed), Time(time.GetUtcNow()), Int(expectedVersion));
            var updated = await WorkspaceRow.ReadSingleAsync(cmd, ct);
            if (updated is not null)
            {
                return new PatchResult(PatchOutcome.Updated, updated);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.UniqueViolation)
        {
            return new PatchResult(PatchOutcome.NameTaken, null);
        }

        var current = await GetAsync(id, ct);
        return current switch
        {
            null => new PatchResult(PatchOutcome.NotFound, null),
            { Status: WorkspaceStatus.Removed } => new PatchResult(PatchOutcome.Removed, current),
            _ => new PatchResult(PatchOutcome.VersionMismatch, current),
        };
    }

    /// <summary>The live workspaces below <paramref name="id"/>, parents before children (bounded).</summary>
    public async Task<IReadOnlyList<ChildRef>> LiveDescendantsAsync(Guid id, int limit, CancellationToken ct)
    {
        const string sql = """
            WITH RECURSIVE subtree AS (
                SELECT id, name, 1 AS depth FROM workspaces WHERE parent_id = $1 AND status <> 'removed'
                UNION ALL
                SELECT w.id, w.name, s.depth + 1 FROM workspaces w JOIN subtree s ON w.parent_id = s.id WHERE w.status <> 'removed'
            )
            SELECT id, name FROM subtree ORDER BY depth, id LIMIT $2
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(Uuid(id), P(limit));
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        var children = new List<ChildRef>();
        while (await reader.ReadAsync(ct))
        {
            children.Add(new ChildRef(reader.GetGuid(0), reader.GetString(1)));
        }

        return children;
    }

    /// <summary>
    /// Forgets boxes that were confirmed terminated: <c>instance_id = NULL</c> only where the row still names that very
    /// box, so a box id that changed between the caller's read and this write is left alone. Returns rows cleared.
    /// </summary>
    public async Task<int> ClearTerminatedBoxesAsync(IReadOnlyCollection<BoxRef> boxes, CancellationToken ct)
    {
        var owned = boxes.Where(b => b.WorkspaceId is not null).ToArray();
        if (owned.Length == 0)
        {
            return 0;
        }

        const string sql = """
            UPDATE workspaces w
               SET instance_id = NULL, instance_provider = NULL, url = NULL, version = w.version + 1, updated_at = $4
              FROM unnest($1::uuid[], $2::text[], $3::text[]) AS t(id, instance_id, provider)
             WHERE w.id = t.id AND w.instance_id = t.instance_id AND w.instance_provider = t.provider
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.AddAll(
            UuidArray(owned.Select(b => b.WorkspaceId!.Value)),
            TextArray(owned.Select(b => b.InstanceId)),
            TextArray(owned.Select(b => b.Provider)),
            Time(time.GetUtcNow()));
        return await cmd.ExecuteNonQueryAsync(ct);
    }

    /// <summary>True when any ancestor of <paramref name="id"/> is paused.</summary>
    public async Task<bool> HasPausedAncestorAsync(Guid id, CancellationToken ct)
    {
        const string sql = $"""
            WITH RECURSIVE ancestors AS ({AncestorsCte.Body})
            SELECT EXISTS (SELECT 1 FROM workspaces a JOIN ancestors USING (id) WHERE a.status = 'paused')
            """;
        await using var cmd = db.CreateCommand(sql);
        cmd.Parameters.Add(Uuid(id));
        return (bool)(await cmd.ExecuteScalarAsync(ct))!;
    }
}

/// <summary>The recursive term that walks from <c>$1</c> up to the root; cycles cannot form (a parent exists before its child).</summary>
internal static class AncestorsCte
{
    public const string Body = """
        SELECT parent_id AS id FROM workspaces WHERE id = $1 AND parent_id IS NOT NULL
        UNION
        SELECT w.parent_id FROM workspaces w JOIN ancestors a ON w.id = a.id WHERE w.parent_id IS NOT NULL
        """;
}

public sealed record ChildRef(Guid Id, string Name);

/// <summary>A workspace and the operation created last for it (null: none yet, e.g. an external runtime).</summary>
public sealed record WorkspaceWithOperation(Workspace Workspace, OperationSummary? Operation);

/// <summary>What a workspace's answer shows of an operation: its id, kind and state.</summary>
public sealed record OperationSummary(Guid Id, string Kind, string State);

public sealed record WorkspaceListFilter(string? Status, Guid? ParentId);

public sealed record WorkspaceCursor(DateTimeOffset CreatedAt, Guid Id);

public sealed record WorkspacePatch(string? Name, double? X, double? Y, bool? Collapsed)
{
    public bool IsEmpty => Name is null && X is null && Y is null && Collapsed is null;
}

public enum PatchOutcome
{
    Updated,
    NotFound,
    Removed,
    VersionMismatch,
    NameTaken,
}

public sealed record PatchResult(PatchOutcome Outcome, Workspace? Workspace);
